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
        # the dry run: how the file was read, what changes, conflicts
        "imppg.notes": "Cara file dibaca",
        "imppg.notes_help": "Periksa apakah ini sesuai dengan isi file Anda. Bila tidak, "
                            "perbaiki file (mis. simpan sebagai CSV UTF-8, atau tulis tanggal "
                            "sebagai 31/12/2024) lalu unggah lagi.",
        "imppg.changes": "Perubahan",
        "imppg.changes_count": "{fields} isian pada {records} data akan diubah.",
        "imppg.changes_cleared": "{count} isian dikosongkan dengan #KOSONG (ditandai "
                                 "\"dikosongkan\").",
        "imppg.changes_first": "Ditampilkan {shown} pertama dari {total}; unduh daftar lengkap "
                               "di bawah.",
        "imppg.chg_row": "Baris",
        "imppg.chg_record": "Data",
        "imppg.chg_column": "Kolom",
        "imppg.chg_before": "Sebelum",
        "imppg.chg_after": "Sesudah",
        "imppg.chg_note": "Keterangan",
        "imppg.chg_cleared": "dikosongkan",
        "imppg.empty_value": "(kosong)",
        "imppg.new_record": "(data baru di file ini)",
        "imppg.changes_xlsx": "Unduh daftar perubahan (XLSX)",
        "imppg.changes_csv": "Unduh daftar perubahan (CSV)",
        "imppg.changes_sheet": "Perubahan impor",
        "imppg.conflicts": "Konflik",
        "imppg.conflicts_intro": "{count} baris berasal dari ekspor lama: datanya sudah diubah "
                                 "orang lain sesudah file diekspor. Baris ini tidak disimpan, "
                                 "kecuali Anda memilih untuk menimpa perubahan mereka.",
        "imppg.conflict_title": "Lembar {sheet}, baris {row}: {record}",
        "imppg.conflict_by": "Diubah oleh **{who}** pada {at} WIB. Kolom yang mereka ubah: "
                             "{columns}.",
        "imppg.conflict_col": "Kolom",
        "imppg.conflict_now": "Sekarang (tersimpan)",
        "imppg.conflict_file": "Dari file (akan disimpan)",
        "imppg.conflict_overwrite": "Timpa perubahan {who} dengan isi file untuk baris ini",
        "imppg.conflicts_all": "Timpa semua {count} konflik dengan isi file",
        "imppg.conflict_who": "Diubah oleh",
        "imppg.conflict_when": "Waktu (WIB)",
        "imppg.conflict_columns": "Kolom yang mereka ubah",
        "imppg.conflict_writes": "Akan ditimpa (sekarang → file)",
        "imppg.conflicts_xlsx": "Unduh daftar konflik (XLSX)",
        "imppg.conflicts_sheet": "Konflik impor",
        "imppg.conflicts_chosen": "{count} konflik akan ditimpa dengan isi file.",
        "imppg.save_plan_overwrite": "Akan disimpan: {new} baru, {updated} diperbarui dan "
                                     "{overwrite} konflik ditimpa, dalam satu transaksi, "
                                     "tercatat di riwayat.",
        "imppg.tab_history": "Riwayat impor",
        # import history and undo
        "imphist.intro": "Setiap impor yang disimpan, terbaru di atas. Pilih satu untuk melihat "
                         "data yang dibuat atau diubahnya. Admin dapat membatalkan impor "
                         "selama datanya belum diubah lagi.",
        "imphist.empty": "Belum ada impor yang disimpan.",
        "imphist.col_id": "No.",
        "imphist.col_at": "Waktu (WIB)",
        "imphist.col_by": "Oleh",
        "imphist.col_file": "File",
        "imphist.col_status": "Status",
        "imphist.status_done": "tersimpan",
        "imphist.status_undone": "dibatalkan",
        "imphist.open": "Buka impor",
        "imphist.choose": "Pilih impor…",
        "imphist.option": "#{id} · {file} · {at} WIB · {who}",
        "imphist.batch": "Impor #{id}: {file}",
        "imphist.batch_by": "Disimpan oleh **{who}** pada {at} WIB: {new} baru, {updated} "
                            "diperbarui, {unchanged} tidak berubah, {rejected} ditolak.",
        "imphist.records_first": "Ditampilkan {shown} baris pertama dari {total}; unduh "
                                 "daftar lengkap di bawah.",
        "imphist.no_records": "Impor ini tidak membuat atau mengubah data apa pun.",
        "imphist.col_kind": "Jenis data",
        "imphist.col_record": "Data",
        "imphist.col_action": "Tindakan",
        "imphist.created": "dibuat",
        "imphist.updated": "diperbarui",
        "imphist.records_xlsx": "Unduh data impor ini (XLSX)",
        "imphist.records_csv": "Unduh data impor ini (CSV)",
        "imphist.records_sheet": "Impor",
        "imphist.undone": "Impor ini dibatalkan oleh **{who}** pada {at} WIB.",
        "imphist.undo_title": "Batalkan impor",
        "imphist.undo_help": "Data yang dibuat impor ini ({new}) dihapus: IKM, produk dan "
                             "angkatan masuk ke tempat sampah, data lain dihapus. Data yang "
                             "diubahnya ({updated}) dikembalikan ke isian sebelum impor. Semua "
                             "dalam satu transaksi dan tercatat di riwayat. Ditolak bila ada "
                             "data yang sudah diubah lagi sesudah impor.",
        "imphist.undo_confirm": "Ya, batalkan impor #{id}",
        "imphist.undo_button": "Batalkan impor #{id}",
        "imphist.undo_staff": "Hanya admin yang dapat membatalkan impor.",
        "imphist.undo_done": "Impor #{id} dibatalkan: {removed} data baru dihapus, {restored} "
                             "data dikembalikan ke isian sebelum impor.",
        "imphist.changed_since": "Impor #{id} tidak dibatalkan: {count} data sudah diubah "
                                 "sesudah impor ini. Membatalkannya akan menghapus pekerjaan "
                                 "orang lain. Tidak ada yang diubah.",
        "imphist.col_reason": "Keterangan",
        "imphist.reason_changed": "diubah sesudah impor",
        "imphist.reason_gone": "dihapus sesudah impor",
        "imphist.reason_linked": "ditambahkan sesudah impor, terhubung ke data impor ini",
        "imphist.kind_assessment": "Penilaian",
        "imphist.kind_decision": "Keputusan seleksi",
        "imphist.already_undone": "Impor #{id} sudah dibatalkan oleh {by} pada {at}.",
        "imphist.incomplete": "Impor #{id} tidak dapat dibatalkan: riwayatnya tidak mencatat "
                              "setiap data yang dibuat atau diubahnya (impor lama).",
        "imphist.nothing": "Impor #{id} tidak membuat atau mengubah data apa pun: tidak ada "
                           "yang dibatalkan.",
        "imphist.clash": "Impor #{id} tidak dibatalkan: isian lama salah satu data (mis. NIB) "
                         "kini dipakai data lain. Tidak ada yang diubah.",
        "imphist.stale": "Data diubah oleh orang lain selama pembatalan. Tidak ada yang diubah; "
                         "coba lagi.",
        "det.action.undo": "impor dibatalkan",
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
        "imppg.notes": "How the file was read",
        "imppg.notes_help": "Check that this matches your file. If not, fix the file (e.g. save "
                            "it as CSV UTF-8, or write dates as 31/12/2024) and upload it again.",
        "imppg.changes": "Changes",
        "imppg.changes_count": "{fields} cells of {records} records will change.",
        "imppg.changes_cleared": "{count} cells are emptied with #KOSONG (marked \"emptied\").",
        "imppg.changes_first": "Showing the first {shown} of {total}; download the whole list "
                               "below.",
        "imppg.chg_row": "Row",
        "imppg.chg_record": "Record",
        "imppg.chg_column": "Column",
        "imppg.chg_before": "Before",
        "imppg.chg_after": "After",
        "imppg.chg_note": "Note",
        "imppg.chg_cleared": "emptied",
        "imppg.empty_value": "(empty)",
        "imppg.new_record": "(a record new in this file)",
        "imppg.changes_xlsx": "Download the list of changes (XLSX)",
        "imppg.changes_csv": "Download the list of changes (CSV)",
        "imppg.changes_sheet": "Import changes",
        "imppg.conflicts": "Conflicts",
        "imppg.conflicts_intro": "{count} rows come from an old export: someone else changed "
                                 "their record after the file was exported. These rows are not "
                                 "saved unless you choose to overwrite that change.",
        "imppg.conflict_title": "Sheet {sheet}, row {row}: {record}",
        "imppg.conflict_by": "Changed by **{who}** on {at} WIB. Columns they changed: {columns}.",
        "imppg.conflict_col": "Column",
        "imppg.conflict_now": "Now (stored)",
        "imppg.conflict_file": "From the file (to be saved)",
        "imppg.conflict_overwrite": "Overwrite {who}'s change with the file for this row",
        "imppg.conflicts_all": "Overwrite all {count} conflicts with the file",
        "imppg.conflict_who": "Changed by",
        "imppg.conflict_when": "Time (WIB)",
        "imppg.conflict_columns": "Columns they changed",
        "imppg.conflict_writes": "Would be overwritten (now → file)",
        "imppg.conflicts_xlsx": "Download the list of conflicts (XLSX)",
        "imppg.conflicts_sheet": "Import conflicts",
        "imppg.conflicts_chosen": "{count} conflicts will be overwritten with the file.",
        "imppg.save_plan_overwrite": "To be saved: {new} new, {updated} updated and {overwrite} "
                                     "conflicts overwritten, in one transaction, recorded in the "
                                     "history.",
        "imppg.tab_history": "Import history",
        "imphist.intro": "Every saved import, newest first. Pick one to see the records it "
                         "created or changed. Admins can undo an import while its records "
                         "have not been changed again.",
        "imphist.empty": "No import has been saved yet.",
        "imphist.col_id": "No.",
        "imphist.col_at": "Time (WIB)",
        "imphist.col_by": "By",
        "imphist.col_file": "File",
        "imphist.col_status": "Status",
        "imphist.status_done": "saved",
        "imphist.status_undone": "undone",
        "imphist.open": "Open an import",
        "imphist.choose": "Choose an import…",
        "imphist.option": "#{id} · {file} · {at} WIB · {who}",
        "imphist.batch": "Import #{id}: {file}",
        "imphist.batch_by": "Saved by **{who}** on {at} WIB: {new} new, {updated} updated, "
                            "{unchanged} unchanged, {rejected} rejected.",
        "imphist.records_first": "Showing the first {shown} of {total} rows; download the "
                                 "whole list below.",
        "imphist.no_records": "This import created or changed no record.",
        "imphist.col_kind": "Kind of record",
        "imphist.col_record": "Record",
        "imphist.col_action": "Action",
        "imphist.created": "created",
        "imphist.updated": "updated",
        "imphist.records_xlsx": "Download this import's records (XLSX)",
        "imphist.records_csv": "Download this import's records (CSV)",
        "imphist.records_sheet": "Import",
        "imphist.undone": "This import was undone by **{who}** on {at} WIB.",
        "imphist.undo_title": "Undo the import",
        "imphist.undo_help": "The records this import created ({new}) are removed: IKM, "
                             "products and cohorts go to the trash, other records are deleted. "
                             "The records it changed ({updated}) get their values from before "
                             "the import back. All in one transaction, recorded in the "
                             "history. Refused when a record was changed again after the "
                             "import.",
        "imphist.undo_confirm": "Yes, undo import #{id}",
        "imphist.undo_button": "Undo import #{id}",
        "imphist.undo_staff": "Only admins can undo an import.",
        "imphist.undo_done": "Import #{id} undone: {removed} new records removed, {restored} "
                             "records given their values from before the import back.",
        "imphist.changed_since": "Import #{id} was not undone: {count} records were changed "
                                 "after this import. Undoing it would remove other people's "
                                 "work. Nothing was changed.",
        "imphist.col_reason": "Note",
        "imphist.reason_changed": "changed after the import",
        "imphist.reason_gone": "deleted after the import",
        "imphist.reason_linked": "added after the import, linked to a record of this import",
        "imphist.kind_assessment": "Assessment",
        "imphist.kind_decision": "Shortlist decision",
        "imphist.already_undone": "Import #{id} was already undone by {by} on {at}.",
        "imphist.incomplete": "Import #{id} cannot be undone: its history does not record every "
                              "record it created or changed (an old import).",
        "imphist.nothing": "Import #{id} created or changed no record: nothing to undo.",
        "imphist.clash": "Import #{id} was not undone: an old value of one of its records "
                         "(e.g. an NIB) is now used by another record. Nothing was changed.",
        "imphist.stale": "Someone else changed the data during the undo. Nothing was changed; "
                         "try again.",
        "det.action.undo": "import undone",
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
