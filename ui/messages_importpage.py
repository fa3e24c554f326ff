"""Messages of the Import / Export page, in both languages (merged into ui/catalogue.py).

The refusals and cell reasons themselves are the importer's (`imp.*`, ui/messages_import.py)."""

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        "page.import_export": "Impor / Ekspor",
        "imppg.title": "Impor dan ekspor data",
        "imppg.intro": "Tambah atau perbarui banyak data sekaligus dari Excel atau CSV (angkatan, "
                       "IKM, produk, sertifikat, ritel, ekspor, pembinaan, keuangan), atau unduh "
                       "daftar IKM.",
        "imppg.tab_import": "Impor dari Excel/CSV",
        "imppg.tab_export": "Ekspor daftar IKM",
        "imppg.forbidden": "Halaman ini hanya untuk staf dan admin.",
        # 1. template
        "imppg.step_template": "1. Unduh templat",
        "imppg.template_help": "Satu lembar per jenis data (Angkatan, IKM, Produk, Sertifikat, "
                               "Ritel, Ekspor, Pembinaan, Keuangan) dengan judul kolom dua "
                               "bahasa, daftar pilihan dan petunjuk pengisian. Isi lembar yang "
                               "diperlukan saja; baris contoh dilewati saat impor.",
        "imppg.template_button": "Unduh templat (XLSX)",
        # 2. upload and dry run
        "imppg.step_upload": "2. Unggah dan periksa",
        "imppg.uploader": "File Excel (.xlsx) atau CSV",
        "imppg.uploader_help": "Templat yang sudah diisi, atau file lain dengan judul kolom yang "
                               "sama. CSV boleh memakai pemisah koma atau titik koma, UTF-8 atau "
                               "Windows-1252; angka boleh ditulis 1.500.000,50.",
        "imppg.limits": "Maksimal {size} MB dan {rows} baris data per lembar. File diperiksa "
                        "dulu; belum ada yang disimpan sampai Anda menekan Simpan.",
        "imppg.result": "Hasil pemeriksaan",
        "imppg.checked": "**{name}** ({size}) — belum ada yang disimpan.",
        "imppg.sheet": "Lembar {sheet}",
        "imppg.col_sheet": "Lembar",
        "imppg.col_kind": "Jenis data",
        "imppg.empty_sheets": "Lembar kosong (tidak ada yang diubah): {sheets}.",
        "imppg.m_new": "Baru",
        "imppg.m_updated": "Diperbarui",
        "imppg.m_unchanged": "Tidak berubah",
        "imppg.m_rejected": "Ditolak",
        "imppg.m_skipped": "Dilewati (contoh)",
        "imppg.help_new": "Baris yang akan ditambahkan sebagai data baru.",
        "imppg.help_updated": "Baris dengan kunci (mis. NIB, atau NIB IKM + nama produk; lihat "
                              "Petunjuk) yang sudah ada dan isinya berbeda: data itu akan "
                              "diperbarui.",
        "imppg.help_unchanged": "Baris yang sama persis dengan data yang tersimpan.",
        "imppg.help_rejected": "Baris dengan isian yang salah: tidak akan disimpan.",
        "imppg.help_skipped": "Baris contoh dari templat.",
        "imppg.only_example": "Hanya baris contoh (dilewati): {sheet}.",
        "imppg.ignored": "Lembar lain yang tidak dibaca: {sheets}.",
        "imppg.all_valid": "Semua baris valid.",
        "imppg.errors": "{rows} baris ditolak karena {cells} isian bermasalah. Perbaiki di file "
                        "lalu unggah lagi, atau simpan baris yang valid saja.",
        "imppg.warnings": "Perlu dicek ({count}) — baris ini tetap akan disimpan:",
        "imppg.report_xlsx": "Unduh laporan galat (XLSX)",
        "imppg.report_csv": "Unduh laporan galat (CSV)",
        "imppg.report_sheet": "Galat impor",
        "imppg.unexpected": "File ini tidak dapat diproses dan tidak ada yang disimpan. Simpan "
                            "ulang sebagai Excel Workbook (.xlsx) lalu coba lagi; bila tetap "
                            "gagal, hubungi admin.",
        # 3. commit
        "imppg.step_save": "3. Simpan",
        "imppg.save_plan": "Akan disimpan: {new} baru dan {updated} diperbarui, dalam satu "
                           "transaksi, tercatat di riwayat.",
        "imppg.partial": "Simpan hanya baris yang valid ({ok} baris); {rejected} baris yang "
                         "ditolak tidak disimpan",
        "imppg.partial_needed": "Ada baris yang ditolak. Perbaiki file lalu unggah lagi, atau "
                                "centang pilihan di atas untuk menyimpan baris yang valid saja.",
        "imppg.save": "Simpan {count} baris",
        "imppg.rechecked": "Data telah diubah oleh orang lain sejak pemeriksaan; hasil di atas "
                           "sudah diperbarui. Periksa lagi, lalu simpan. Belum ada yang disimpan.",
        "imppg.nothing_to_save": "Tidak ada yang perlu disimpan: semua baris valid sama dengan "
                                 "data yang tersimpan.",
        "imppg.saved": "Impor #{batch} dari {name} tersimpan: {new} baru, {updated} diperbarui, "
                       "{unchanged} tidak berubah, {rejected} ditolak (tidak disimpan).",
        "imppg.overview_count": "IKM terdaftar di Ringkasan: {before} → {after}.",
        "imppg.to_overview": "Buka Ringkasan",
        # 4. export
        "imppg.export_help": "Semua lembar (angkatan, IKM, produk, sertifikat, ritel, ekspor, "
                             "pembinaan, keuangan) dengan kolom yang sama seperti templat, jadi "
                             "bisa diubah lalu diunggah kembali. Isian yang diawali =, +, -, @ "
                             "diberi tanda petik agar tidak dijalankan sebagai rumus.",
        "imppg.export_count": "{count} IKM sesuai filter.",
        "imppg.export_xlsx": "Unduh XLSX (semua lembar)",
        "imppg.export_csv": "Unduh CSV (IKM)",
        "imppg.export_csv_help": "Pemisah titik koma dan koma desimal: langsung terbuka di Excel "
                                 "berbahasa Indonesia.",
        "imppg.export_empty": "Tidak ada IKM yang sesuai filter.",
    },
    "en": {
        "page.import_export": "Import / Export",
        "imppg.title": "Import and export data",
        "imppg.intro": "Add or update many records at once from Excel or CSV (cohorts, IKM, "
                       "products, certificates, retail, exports, coaching, financials), or "
                       "download the IKM list.",
        "imppg.tab_import": "Import from Excel/CSV",
        "imppg.tab_export": "Export the IKM list",
        "imppg.forbidden": "This page is for staff and admins only.",
        "imppg.step_template": "1. Download the template",
        "imppg.template_help": "One sheet per kind of record (cohorts, IKM, products, "
                               "certificates, retail, exports, coaching, financials) with "
                               "bilingual headers, pick lists and instructions. Fill only the "
                               "sheets you need; example rows are skipped on import.",
        "imppg.template_button": "Download the template (XLSX)",
        "imppg.step_upload": "2. Upload and check",
        "imppg.uploader": "Excel (.xlsx) or CSV file",
        "imppg.uploader_help": "The filled-in template, or another file with the same column "
                               "headers. CSV may use commas or semicolons, UTF-8 or "
                               "Windows-1252; numbers may be written 1.500.000,50.",
        "imppg.limits": "At most {size} MB and {rows} data rows per sheet. The file is checked "
                        "first; nothing is saved until you press Save.",
        "imppg.result": "Check result",
        "imppg.checked": "**{name}** ({size}) — nothing has been saved yet.",
        "imppg.sheet": "Sheet {sheet}",
        "imppg.col_sheet": "Sheet",
        "imppg.col_kind": "Kind of record",
        "imppg.empty_sheets": "Empty sheets (nothing changes): {sheets}.",
        "imppg.m_new": "New",
        "imppg.m_updated": "Updated",
        "imppg.m_unchanged": "Unchanged",
        "imppg.m_rejected": "Rejected",
        "imppg.m_skipped": "Skipped (example)",
        "imppg.help_new": "Rows that will be added as new records.",
        "imppg.help_updated": "Rows whose key (e.g. NIB, or IKM NIB + product name; see the "
                              "instructions) exists with other values: that record will be "
                              "updated.",
        "imppg.help_unchanged": "Rows identical to the stored record.",
        "imppg.help_rejected": "Rows with a wrong cell: they will not be saved.",
        "imppg.help_skipped": "The template's example row.",
        "imppg.only_example": "Only the example row (skipped): {sheet}.",
        "imppg.ignored": "Other sheets not read: {sheets}.",
        "imppg.all_valid": "Every row is valid.",
        "imppg.errors": "{rows} rows rejected because of {cells} wrong cells. Fix them in the "
                        "file and upload it again, or save the valid rows only.",
        "imppg.warnings": "Worth a look ({count}) — these rows will still be saved:",
        "imppg.report_xlsx": "Download the error report (XLSX)",
        "imppg.report_csv": "Download the error report (CSV)",
        "imppg.report_sheet": "Import errors",
        "imppg.unexpected": "This file cannot be processed and nothing was saved. Save it again "
                            "as an Excel Workbook (.xlsx) and retry; if it still fails, contact "
                            "an admin.",
        "imppg.step_save": "3. Save",
        "imppg.save_plan": "To be saved: {new} new and {updated} updated, in one transaction, "
                           "recorded in the history.",
        "imppg.partial": "Save the valid rows only ({ok} rows); the {rejected} rejected rows are "
                         "not saved",
        "imppg.partial_needed": "Some rows were rejected. Fix the file and upload it again, or "
                                "tick the option above to save the valid rows only.",
        "imppg.save": "Save {count} rows",
        "imppg.rechecked": "Someone else changed the data since the check; the result above has "
                           "been updated. Review it, then save. Nothing has been saved yet.",
        "imppg.nothing_to_save": "Nothing to save: every valid row matches the stored data.",
        "imppg.saved": "Import #{batch} of {name} saved: {new} new, {updated} updated, "
                       "{unchanged} unchanged, {rejected} rejected (not saved).",
        "imppg.overview_count": "Registered IKM on the Overview: {before} → {after}.",
        "imppg.to_overview": "Open the Overview",
        "imppg.export_help": "Every sheet (cohorts, IKM, products, certificates, retail, "
                             "exports, coaching, financials) with the template's columns, so "
                             "the file can be edited and uploaded again. Cells starting with =, +, -, @ get "
                             "an apostrophe so they never run as formulas.",
        "imppg.export_count": "{count} IKM match the filters.",
        "imppg.export_xlsx": "Download XLSX (all sheets)",
        "imppg.export_csv": "Download CSV (IKM)",
        "imppg.export_csv_help": "Semicolon separator and decimal comma: opens directly in Excel "
                                 "with Indonesian settings.",
        "imppg.export_empty": "No IKM match the filters.",
    },
}
