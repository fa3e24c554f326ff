"""Our words for the places where Streamlit would show its own English (issue 9, "one language
on screen"), in both languages (merged into ui/catalogue.py).

`lang.css.*` are shown by ui/lang_css.py through CSS (`content:`) inside Streamlit's own widgets;
the others are widget options (placeholders) and captions of the pages."""

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        # placeholder of a selectbox (shown when nothing is chosen)
        "lang.choose": "Pilih…",
        # the file uploader's button and the text while a file is dragged over it
        "lang.css.upload": "Pilih file",
        "lang.css.drop": "Lepaskan file di sini",
        # the grid's column menu (its other items are hidden)
        "lang.css.sort_asc": "Urutkan naik",
        "lang.css.sort_desc": "Urutkan turun",
        "lang.css.autosize": "Sesuaikan lebar",
        # downloads of a table (our own buttons instead of the grid's "Download as CSV")
        "lang.download_xlsx": "Unduh (XLSX)",
        "lang.download_csv": "Unduh (CSV)",
        # what the uploader accepts (Streamlit's own "5MB per file • XLSX, …" is hidden)
        "imppg.accepts": "Jenis file: {types}.",
        "cohp.progress_sheet": "Kemajuan angkatan",
        "cohp.members_sheet": "Anggota angkatan",
    },
    "en": {
        "lang.choose": "Choose…",
        "lang.css.upload": "Choose file",
        "lang.css.drop": "Drop the file here",
        "lang.css.sort_asc": "Sort ascending",
        "lang.css.sort_desc": "Sort descending",
        "lang.css.autosize": "Fit width",
        "lang.download_xlsx": "Download (XLSX)",
        "lang.download_csv": "Download (CSV)",
        "imppg.accepts": "File types: {types}.",
        "cohp.progress_sheet": "Cohort progress",
        "cohp.members_sheet": "Cohort members",
    },
}
