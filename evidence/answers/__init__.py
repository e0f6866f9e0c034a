"""The CEK-11.1 AI-CAIQ answer: how it is derived, checked and written out, and the pages, API and writes of it.

- ``ownership``: the SSRM Control Ownership (AI-CAIQ vocabulary) of a party, from the catalog's per-layer
  ownership and the party's SSRM roles;
- ``generate``: the facts an answer is written from and the draft (answer, texts, disclosures, plan);
- ``rules``: the AI-CAIQ fill rules and the one table of guideline failures that count as significant;
- ``export``: the AI-CAIQ workbook in CSA's layout, CSV and JSON;
- ``template``: writing the answer into the user's own copy of the official AI-CAIQ workbook;
- ``models``: the answer per party (draft, then published frozen with its digest);
- ``services``: the writes (generate a draft, edit, publish); ``selectors``: the reads (parties, answers);
- ``forms``, ``views``, ``urls``: the pages; ``api``: the DRF answer endpoints.
"""
