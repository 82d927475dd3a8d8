"""socialops archive: every post, comment, edit and removed comment kept as a public record."""
