"""What goes on paper and into spreadsheets: A4 certificates and ID cards, a cohort's folder of
printable files, and CSV as Excel opens it (a cohort's results, a crew report)."""
