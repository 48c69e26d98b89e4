"""Printable documents (PDF, fpdf2): the patient summary."""
