"""SLA service: the city's answer promise tracked live. Start reading at `socialops_sla.app`."""
