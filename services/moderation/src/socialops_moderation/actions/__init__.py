"""Platform actions: decisions that hide/delete/block become commands; the executor carries them out."""
