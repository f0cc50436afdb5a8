"""What goes on paper: A4 certificates and ID cards, and a cohort's folder of printable files."""
