"""Semesters as records: registration window, add and drop deadlines, credit limit."""
