"""Per-person documents the funders require (issue 21), made from the record.

No Flask here. The pieces, in the order a document is made:

- `catalogue.py`: what documents exist (`DocumentKind`): the record each is made from,
  the programmes it belongs to, the clause it comes from, the obligations it fulfils, and
  the function that reads its fields from the database.
- `builder.py`: the shipped templates are readable text files, `seeds/documents/<code>.md`,
  turned into a `.docx` a coordinator opens in Word or LibreOffice.
- `render.py`: fills a `.docx` template (docxtpl, Jinja placeholders) with a record's fields.
"""
