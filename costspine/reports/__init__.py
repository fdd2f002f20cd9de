"""Reports: text tables, summaries for ``summary.json``, workbook descriptions and their Excel
writer (the only openpyxl importer), PNG figures and the manifest; one ``*_report`` module per
command writes its output folder (``run_report``, ``psa_report``, ``dsa_report``, ``bia_report``,
``fit_report``).
"""
