"""Reports: text tables, summaries for ``summary.json``, workbook descriptions and their Excel
writer (the only openpyxl importer), PNG figures and the manifest.
"""

