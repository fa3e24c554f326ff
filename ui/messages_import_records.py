"""Messages of importing cohorts, certificates, retail listings, exports, coaching actions and
financials (services.imports): the reasons only these sheets can give."""

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        "imp.duplicate_row": "Baris ini mengulang baris {rows} file ini (kuncinya sama); "
                             "satukan atau hapus salah satunya.",
        "imp.product_rejected": "Produk ini ditolak di lembar Produk (baris {row}); perbaiki "
                                "baris itu dulu.",
        "imp.kind.cohort": "Angkatan",
        "imp.kind.ikm": "IKM",
        "imp.kind.product": "Produk",
        "imp.kind.certification": "Sertifikat",
        "imp.kind.listing": "Ritel modern",
        "imp.kind.export": "Ekspor",
        "imp.kind.coaching": "Pembinaan",
        "imp.kind.financials": "Keuangan",
    },
    "en": {
        "imp.duplicate_row": "This row repeats row(s) {rows} of this file (same key); merge "
                             "them or delete one.",
        "imp.product_rejected": "This product was rejected on the product sheet (row {row}); "
                                "fix that row first.",
        "imp.kind.cohort": "Cohorts",
        "imp.kind.ikm": "IKM",
        "imp.kind.product": "Products",
        "imp.kind.certification": "Certificates",
        "imp.kind.listing": "Retail listings",
        "imp.kind.export": "Exports",
        "imp.kind.coaching": "Coaching",
        "imp.kind.financials": "Financials",
    },
}
