"""Messages of the import feature, in both languages (merged into ui/catalogue.py)."""

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        # refusals of a whole file
        "imp.too_big": "File terlalu besar ({size} MB; maksimal {max} MB). Bagi menjadi beberapa "
                       "file.",
        "imp.too_big_unpacked": "Isi workbook terlalu besar setelah dibuka (maksimal {max} MB).",
        "imp.empty": "File kosong.",
        "imp.no_rows": "Tidak ada baris data untuk diimpor (hanya judul kolom, baris contoh atau "
                       "kosong).",
        "imp.bad_type": "Jenis file '{ext}' tidak didukung. Unggah workbook Excel (.xlsx) atau "
                        "CSV (.csv).",
        "imp.old_xls": "Ini file Excel lama (.xls) atau file berkata sandi. Buka di Excel, lalu "
                       "simpan sebagai Excel Workbook (.xlsx) tanpa kata sandi.",
        "imp.not_xlsx": "File ini bukan workbook Excel (.xlsx) yang utuh: rusak, terpotong atau "
                        "formatnya lain. Simpan ulang sebagai Excel Workbook (.xlsx).",
        "imp.ods": "Ini file OpenDocument (.ods). Simpan sebagai Excel Workbook (.xlsx) atau "
                   "CSV.",
        "imp.html_file": "File ini sebenarnya halaman web/XML yang diberi nama .xlsx. Buka di "
                         "Excel lalu simpan sebagai Excel Workbook (.xlsx).",
        "imp.binary": "File ini bukan tabel teks (CSV) atau workbook Excel.",
        "imp.encoding": "Pengodean teks file tidak dikenali. Simpan sebagai \"CSV UTF-8\" atau "
                        "Excel Workbook (.xlsx).",
        "imp.csv_broken": "File CSV tidak dapat dibaca (sekitar baris {line}); periksa tanda "
                          "kutip.",
        "imp.bad_id": "ID harus bilangan bulat dari ekspor; kosongkan untuk data baru.",
        "imp.bad_version": "Versi tidak cocok dengan data ini; pakai file ekspor terbaru.",
        "imp.version_without_id": "Ada Versi tanpa ID; kosongkan keduanya untuk data baru.",
        "imp.unknown_id": "Tidak ada data dengan ID {id} di jenis ini (sudah dihapus permanen, "
                          "atau file dari server lain). Kosongkan ID untuk menambahkannya baru.",
        "imp.duplicate_id": "ID yang sama juga ada di baris {rows}.",
        "imp.in_trash": "Data ini ada di tempat sampah; pulihkan dulu di halaman Admin.",
        "imp.id_other_ikm": "ID ini milik data IKM lain daripada NIB IKM di baris ini.",
        "imp.product_in_trash": "Produknya ada di tempat sampah; pulihkan dulu.",
        "imp.changed_since_export": "Diubah oleh {by} pada {at} sesudah file diekspor ({columns}); "
                                    "lihat daftar konflik sebelum menimpa.",
        "imp.clear_key": "Kolom kunci tidak bisa dikosongkan dengan #KOSONG.",
        "imp.moves_trained": "IKM ini sudah dilatih di '{cohort}' (selesai {end}); file tidak "
                             "memindahkannya. Pindahkan di halaman Angkatan atau Detail IKM, "
                             "yang meminta konfirmasi, atau kosongkan sel angkatan.",
        "imp.date_order_conflict": "Kolom ini mencampur urutan hari/bulan ('{dmy}') dan "
                                   "bulan/hari ('{mdy}'); tanggal seperti ini tidak bisa dibaca "
                                   "pasti. Tulis sebagai tttt-bb-hh.",
        "imp.number_conflict": "Kolom ini mencampur format angka Indonesia ('{id}') dan Inggris "
                               "('{en}'); tulis angka ini tanpa pemisah ribuan.",
        "imp.note.date_order": "Kolom '{column}' dibaca sebagai {order}, karena sel seperti "
                               "'{example}'.",
        "imp.note.date_order_file": "Kolom '{column}' dibaca sebagai {order}, seperti kolom "
                                    "'{other}' di file yang sama (mis. '{example}').",
        "imp.note.number_format_file": "Kolom '{column}' dibaca dengan format angka {format}, "
                                       "seperti kolom '{other}' (mis. '{example}').",
        "imp.note.date_default": "Kolom '{column}' dibaca sebagai hari/bulan/tahun (bawaan; tidak "
                                 "ada sel yang menunjukkan urutan lain, mis. '{example}').",
        "imp.note.date_conflict": "Kolom '{column}' mencampur hari/bulan ('{dmy}') dan bulan/hari "
                                  "('{mdy}'): tanggal yang bisa dibaca dua arah ditolak.",
        "imp.note.number_format": "Kolom '{column}' dibaca dengan format angka {format}, karena "
                                  "sel seperti '{example}'.",
        "imp.note.number_default": "Kolom '{column}': angka seperti '{example}' dibaca dengan "
                                   "titik ribuan (format Indonesia); yang memakai koma ditolak.",
        "imp.note.number_conflict": "Kolom '{column}' mencampur format Indonesia ('{id}') dan "
                                    "Inggris ('{en}'): angka yang bisa dibaca dua arah ditolak.",
        "imp.order.dmy": "hari/bulan/tahun",
        "imp.order.mdy": "bulan/hari/tahun",
        "imp.format.id": "Indonesia (1.250,50)",
        "imp.format.en": "Inggris (1,250.50)",
        "imp.encoding_unsure": "Pengodean teks file ini tidak dapat dipastikan: hurufnya bisa "
                               "terbaca {readings}. Di Excel pilih Simpan Sebagai → \"CSV UTF-8 "
                               "(dipisahkan koma)\", lalu unggah lagi.",
        "imp.note.encoding": "Teks dibaca sebagai {encoding}, mis. {samples}. Bila huruf tampak "
                             "salah, simpan ulang sebagai \"CSV UTF-8\".",
        "imp.note.title_rows": "Baris {rows} di atas judul kolom dilewati sebagai judul; judul "
                               "kolom ada di baris {header}.",
        "imp.unreadable": "File tidak dapat dibaca.",
        "imp.too_many_rows": "Lembar '{sheet}' berisi lebih dari {max} baris data. Bagi menjadi "
                             "beberapa file.",
        "imp.too_many_columns": "Lembar '{sheet}' berisi lebih dari {max} kolom.",
        "imp.too_far": "Lembar '{sheet}' memakai sel sampai {cell}, jauh di luar tabel (paling "
                       "banyak {max} kolom dan {rows} baris). Hapus isi dan format sel di luar "
                       "tabel data (pilih kolom/baris kosong di kanan dan bawah tabel, Hapus), "
                       "lalu simpan dan unggah lagi.",
        "imp.too_complex": "File ini terlalu berat untuk dibaca server (melewati batas memori "
                           "atau waktu baca). Simpan ulang hanya tabel datanya sebagai Excel "
                           "Workbook (.xlsx) atau CSV, atau bagi menjadi beberapa file.",
        "imp.busy": "Server sedang membaca file lain. Coba lagi sebentar lagi.",
        "imp.cell_too_long": "Lembar '{sheet}', baris {row}, kolom {column}: isian lebih dari "
                             "{max} karakter.",
        "imp.missing_sheet": "Lembar yang diharapkan tidak ditemukan ({expected}). Lembar di "
                             "file: {found}. Pakai templat dari halaman ini.",
        "imp.bad_headers": "Lembar '{sheet}': judul kolom tidak cocok dengan templat. Kurang: "
                           "{missing}. Tidak dikenal: {unknown}.",
        "imp.duplicate_header": "Lembar '{sheet}': kolom '{header}' muncul dua kali.",
        "imp.blank_header": "Lembar '{sheet}': kolom {column} berisi data tetapi tanpa judul.",
        "imp.bad_kind": "Jenis data impor tidak dikenal.",
        "imp.has_rejected": "{count} baris ditolak; tidak ada yang disimpan. Perbaiki file, atau "
                            "pilih untuk menyimpan baris yang valid saja.",
        "imp.nothing_valid": "Tidak ada baris valid untuk disimpan.",
        "imp.stale": "Sebagian data telah diubah oleh orang lain selama impor — jalankan "
                     "pemeriksaan lagi.",
        # problems of one cell or row
        "imp.row_fields": "Baris berisi {found} kolom, seharusnya {expected}: pemisah kolom "
                          "tercampur (; dan ,)?",
        "imp.formula": "Berisi rumus; ketik nilainya saja (rumus tidak dijalankan).",
        "imp.excel_error": "Berisi nilai galat Excel ({value}).",
        "imp.sci_notation": "Angka tertulis sebagai notasi ilmiah (mis. 1,23457E+12) sehingga "
                            "digitnya hilang. Format kolom sebagai Teks dan ketik ulang.",
        "imp.duplicate_nib": "NIB ini juga ada di baris {rows} file ini.",
        "imp.duplicate_product": "Produk dengan nama ini untuk IKM yang sama juga ada di baris "
                                 "{rows}.",
        "imp.out_of_scope": "Di luar kabupaten Anda.",
        "imp.nib_in_trash": "NIB ini milik IKM yang ada di tempat sampah; minta admin "
                            "memulihkannya.",
        "imp.ikm_nib_required": "Isi NIB IKM pemilik produk ini.",
        "imp.unknown_ikm": "Tidak ada IKM dengan NIB {nib} (di data maupun di file ini).",
        "imp.ikm_rejected": "IKM-nya ditolak (lembar {sheet}, baris {row}).",
        "imp.ikm_in_trash": "IKM dengan NIB ini ada di tempat sampah.",
        "imp.unknown_cohort": "Angkatan '{name}' tidak dikenal. Tulis nama angkatan.",
        "imp.unknown_cohort_suggest": "Angkatan '{name}' tidak dikenal: tulis nama angkatannya, "
                                      "mis. {suggestions}.",
        "imp.possible_duplicate": "Tanpa NIB dan namanya sudah ada di kecamatan ini (IKM "
                                  "#{id}): akan ditambahkan sebagai IKM baru.",
        # progress
        "imp.progress.checking": "Memeriksa baris…",
        "imp.progress.writing": "Menyimpan…",
        "imp.progress.audit": "Mencatat riwayat…",
        "imp.progress.done": "Selesai.",
        # error report columns
        "imp.report.sheet": "Lembar",
        "imp.report.row": "Baris",
        "imp.report.column": "Kolom",
        "imp.report.value": "Isian",
        "imp.report.reason": "Alasan",
        # the template's instructions
        "imp.tpl.title": "Templat impor data program IKM: angkatan, IKM, produk dan catatannya",
        "imp.tpl.step1": "1. Isi lembar yang Anda perlukan, satu baris per data: Angkatan, IKM, "
                         "Produk, Sertifikat, Ritel, Ekspor, Pembinaan, Keuangan. Lembar yang "
                         "tidak dipakai boleh dibiarkan kosong atau dihapus. Baris 1 adalah "
                         "judul kolom: jangan diubah.",
        "imp.tpl.step2": "2. Baris contoh (teks diawali \"{example}\", atau NIB IKM {nib}) "
                         "dilewati saat impor; boleh dihapus.",
        "imp.tpl.step3": "3. Kolom berwarna jingga wajib diisi. Pilih nilai dari daftar bila "
                         "ada. Kabupaten, kecamatan, desa, angkatan, kategori, produk, ritel, "
                         "jenis sertifikat dan negara ditulis dengan namanya.",
        "imp.tpl.step4": "4. Kolom ID dan Versi (paling kanan) diisi oleh ekspor: biarkan apa "
                         "adanya, dan kosong untuk data baru. Baris ber-ID memperbarui data itu "
                         "(IKM tanpa NIB juga), dan ditolak bila data itu sudah diubah orang lain "
                         "sesudah ekspor. Tanpa ID, NIB adalah kunci: baris dengan NIB yang sudah "
                         "ada memperbarui IKM itu; baris tanpa ID dan NIB menjadi IKM baru.",
        "imp.tpl.step5": "5. Lembar selain Angkatan dan IKM dikaitkan ke IKM lewat kolom NIB "
                         "IKM, dan ke produk lewat nama produk IKM itu (huruf besar/kecil tidak "
                         "dibedakan). Kunci tiap lembar tertulis di bawah: baris dengan kunci "
                         "yang sudah ada memperbarui data itu, yang lain ditambahkan.",
        "imp.tpl.step6": "6. Angka boleh ditulis cara Indonesia (Rp 1.500.000 atau "
                         "1.500.000,50; rupiah dibulatkan ke bilangan bulat, setengah ke atas). "
                         "Angka seperti 1,250 ditolak bila kolomnya tidak menunjukkan maksudnya. "
                         "Tanggal: hh/bb/tttt; urutan hari dan bulan diputuskan per kolom dari "
                         "semua isinya (mis. 17/08/2024), dan pemeriksaan menyebutkannya.",
        "imp.tpl.step7": "7. Saat memperbarui, sel kosong berarti \"biarkan seperti "
                         "sekarang\". Untuk mengosongkan isian yang tersimpan, tulis #KOSONG di "
                         "selnya. Tanda - saja juga dianggap kosong. Rumus tidak dijalankan dan "
                         "ditolak.",
        "imp.tpl.step8": "8. Unggah file ini di halaman Impor/Ekspor: periksa dulu (tidak ada "
                         "yang disimpan), perbaiki galat, lalu simpan.",
        "imp.tpl.sheet": "Lembar {sheet}",
        "imp.tpl.col_header": "Kolom",
        "imp.tpl.col_required": "Wajib",
        "imp.tpl.col_hint": "Keterangan",
        "imp.tpl.yes": "ya",
        "imp.tpl.choices": "Pilihan: {choices}.",
        "imp.tpl.pick_from_list": "Pilih nilai dari daftar.",
        "imp.tpl.sheet_optional": "Lembar ini boleh dibiarkan kosong atau dihapus.",
        "imp.tpl.key.cohort": "Kunci: kabupaten + nama angkatan.",
        "imp.tpl.key.ikm": "Kunci: NIB (baris tanpa NIB selalu menjadi IKM baru).",
        "imp.tpl.key.product": "Kunci: NIB IKM + nama produk.",
        "imp.tpl.key.certification": "Kunci: NIB IKM + jenis sertifikat + produk (kosong untuk "
                                     "sertifikat usaha).",
        "imp.tpl.key.listing": "Kunci: NIB IKM + produk + ritel.",
        "imp.tpl.key.export": "Kunci: NIB IKM + produk + tanggal kirim + negara tujuan.",
        "imp.tpl.key.coaching": "Kunci: NIB IKM + teks tindakan + produk + tenggat.",
        "imp.tpl.key.financials": "Kunci: NIB IKM + tahun.",
        "imp.hint.date": "Tanggal (hh/bb/tttt).",
        "imp.hint.nib": "13 digit. Kosongkan bila belum ada.",
        "imp.hint.phone": "Contoh 081234567890 atau +62 812-3456-7890.",
        "imp.hint.kabupaten_code": "Nama kabupaten.",
        "imp.hint.kecamatan_code": "Nama kecamatan di kabupaten itu.",
        "imp.hint.desa_code": "Nama desa/kelurahan di kecamatan itu.",
        "imp.hint.founded_year": "Tahun, mis. 2015.",
        "imp.hint.employees_female": "Tidak lebih dari jumlah pekerja.",
        "imp.hint.cohort_id": "Nama angkatan (harus angkatan kabupaten yang sama).",
        "imp.hint.export_commitment_on": "Tanggal (hh/bb/tttt).",
        "imp.hint.status_reason": "Wajib bila status keluar.",
        "imp.hint.left_on": "Tanggal (hh/bb/tttt), bila status keluar.",
        "imp.hint.ikm_nib": "NIB IKM pemilik data ini (sudah tersimpan atau ada di lembar IKM).",
        "imp.hint.category_code": "Nama kategori.",
        "imp.hint.net_content": "Angka lebih dari nol, mis. 250 atau 0,5.",
        "imp.hint.price_rp": "Rupiah, mis. Rp 15.000.",
        "imp.hint.cost_rp": "Rupiah per unit.",
        "imp.hint.gtin": "Nomor barcode 8, 12, 13 atau 14 digit dengan digit pemeriksa benar.",
        "imp.hint.hs_code": "4–10 digit, mis. 1905.90.90.",
        "imp.hint.packaging_upgraded_on": "Tanggal (hh/bb/tttt).",
        "imp.hint.baseline_sales_rp": "Rupiah per bulan sebelum program.",
        "imp.hint.product_id": "Nama produk IKM ini (sudah tersimpan atau ada di lembar Produk).",
        "imp.hint.cohort.name": "Nama angkatan, unik di kabupatennya.",
        "imp.hint.cohort.year": "Tahun, mis. 2024. Boleh kosong bila tanggal mulai diisi.",
        "imp.hint.cohort.target_participants": "Bilangan 1–1000; kosong berarti 120.",
        "imp.hint.certification.cert_type_code": "Nama jenis sertifikat dari daftar (kodenya, "
                                                 "mis. HALAL, juga diterima).",
        "imp.hint.certification.product_id": "Nama produk IKM ini untuk sertifikat produk; "
                                             "kosongkan untuk sertifikat usaha (mis. NIB).",
        "imp.hint.certification.status": "Status proses perlu tanggal pengajuan; terbit perlu "
                                         "tanggal terbit.",
        "imp.hint.certification.expires_on": "Tanggal (hh/bb/tttt). Bila kosong dan status "
                                             "terbit, dihitung dari masa berlaku jenisnya.",
        "imp.hint.listing.retailer_id": "Nama ritel dari daftar.",
        "imp.hint.listing.status": "Status delisting perlu tanggal delisting.",
        "imp.hint.listing.repeat_orders": "Bilangan bulat; kosong berarti 0.",
        "imp.hint.export.country": "Nama negara dalam bahasa Indonesia (mis. Malaysia, Arab "
                                   "Saudi) atau kode ISO dua huruf (MY, SA).",
        "imp.hint.export.volume": "Angka lebih dari nol.",
        "imp.hint.export.unit": "Teks bebas, mis. kg atau karton.",
        "imp.hint.export.value_usd": "Dolar AS, mis. 1250,50.",
        "imp.hint.export.route": "Kosong berarti direct (langsung); aggregator bila lewat "
                                 "pengumpul/eksportir lain.",
        "imp.hint.coaching.text": "Tindakan yang konkret, mis. \"Perbaiki label\".",
        "imp.hint.coaching.product_id": "Boleh kosong; bila diisi, nama produk IKM ini.",
        "imp.hint.financials.year": "Tahun buku, mis. 2023; satu baris per IKM per tahun.",
        "imp.hint.financials.capital_rp": "Rupiah. Isi minimal satu dari modal, omzet, omzet "
                                          "ekspor.",
        "imp.hint.financials.revenue_rp": "Rupiah per tahun.",
        "imp.hint.financials.export_revenue_rp": "Rupiah per tahun; tidak lebih dari omzet.",
    },
    "en": {
        "imp.too_big": "File too large ({size} MB; at most {max} MB). Split it into several "
                       "files.",
        "imp.too_big_unpacked": "The workbook is too large once unpacked (at most {max} MB).",
        "imp.empty": "The file is empty.",
        "imp.no_rows": "No data rows to import (only headers, the example row, or nothing).",
        "imp.bad_type": "Files of type '{ext}' are not supported. Upload an Excel workbook "
                        "(.xlsx) or a CSV (.csv).",
        "imp.old_xls": "This is an old Excel file (.xls) or a password-protected one. Open it in "
                       "Excel and save it as an Excel Workbook (.xlsx) without a password.",
        "imp.not_xlsx": "This is not a complete Excel workbook (.xlsx): damaged, cut short or "
                        "another format. Save it again as an Excel Workbook (.xlsx).",
        "imp.ods": "This is an OpenDocument file (.ods). Save it as an Excel Workbook (.xlsx) or "
                   "CSV.",
        "imp.html_file": "This file is really a web page/XML file named .xlsx. Open it in Excel "
                         "and save it as an Excel Workbook (.xlsx).",
        "imp.binary": "This file is neither a text table (CSV) nor an Excel workbook.",
        "imp.encoding": "The file's text encoding is not recognised. Save it as \"CSV UTF-8\" or "
                        "as an Excel Workbook (.xlsx).",
        "imp.csv_broken": "The CSV file cannot be read (near line {line}); check the quotes.",
        "imp.bad_id": "The ID must be a whole number from an export; leave it empty for new "
                      "records.",
        "imp.bad_version": "The version does not match this record; use a newer export.",
        "imp.version_without_id": "A version without an ID; leave both empty for new records.",
        "imp.unknown_id": "No record of this kind has ID {id} (deleted for good, or a file from "
                          "another server). Empty the ID to add it as new.",
        "imp.duplicate_id": "The same ID is also in row(s) {rows}.",
        "imp.in_trash": "This record is in the trash; restore it on the Admin page first.",
        "imp.id_other_ikm": "This ID belongs to a record of another IKM than this row's IKM NIB.",
        "imp.product_in_trash": "Its product is in the trash; restore it first.",
        "imp.changed_since_export": "Changed by {by} on {at} after the file was exported "
                                    "({columns}); see the list of conflicts before overwriting.",
        "imp.clear_key": "A key column cannot be emptied with #KOSONG.",
        "imp.moves_trained": "This IKM was trained in '{cohort}' (ended {end}); a file does not "
                             "move it. Move it on the Angkatan page or in the IKM's detail, "
                             "which ask first, or leave the cohort cell empty.",
        "imp.date_order_conflict": "This column mixes day/month ('{dmy}') and month/day "
                                   "('{mdy}'); a date like this cannot be read for certain. "
                                   "Write it as yyyy-mm-dd.",
        "imp.number_conflict": "This column mixes Indonesian ('{id}') and English ('{en}') "
                               "number formats; write this number without a thousands "
                               "separator.",
        "imp.note.date_order": "Column '{column}' was read as {order}, because of cells such as "
                               "'{example}'.",
        "imp.note.date_order_file": "Column '{column}' was read as {order}, like column "
                                    "'{other}' of the same file (e.g. '{example}').",
        "imp.note.number_format_file": "Column '{column}' was read in the {format} number "
                                       "format, like column '{other}' (e.g. '{example}').",
        "imp.note.date_default": "Column '{column}' was read as day/month/year (the default; no "
                                 "cell shows another order, e.g. '{example}').",
        "imp.note.date_conflict": "Column '{column}' mixes day/month ('{dmy}') and month/day "
                                  "('{mdy}'): dates that read both ways are refused.",
        "imp.note.number_format": "Column '{column}' was read in the {format} number format, "
                                  "because of cells such as '{example}'.",
        "imp.note.number_default": "Column '{column}': numbers such as '{example}' were read with "
                                   "a thousands dot (Indonesian); those with a comma are refused.",
        "imp.note.number_conflict": "Column '{column}' mixes Indonesian ('{id}') and English "
                                    "('{en}') formats: numbers that read both ways are refused.",
        "imp.order.dmy": "day/month/year",
        "imp.order.mdy": "month/day/year",
        "imp.format.id": "Indonesian (1.250,50)",
        "imp.format.en": "English (1,250.50)",
        "imp.encoding_unsure": "The file's text encoding cannot be told for certain: its "
                               "letters could read {readings}. In Excel choose Save As → "
                               "\"CSV UTF-8 (Comma delimited)\" and upload again.",
        "imp.note.encoding": "Text read as {encoding}, e.g. {samples}. If letters look wrong, "
                             "save the file again as \"CSV UTF-8\".",
        "imp.note.title_rows": "Row(s) {rows} above the column headers were set aside as a "
                               "title; the headers are in row {header}.",
        "imp.unreadable": "The file cannot be read.",
        "imp.too_many_rows": "Sheet '{sheet}' has more than {max} data rows. Split it into "
                             "several files.",
        "imp.too_many_columns": "Sheet '{sheet}' has more than {max} columns.",
        "imp.too_far": "Sheet '{sheet}' uses cells up to {cell}, far outside the table (at most "
                       "{max} columns and {rows} rows). Delete the contents and formatting of "
                       "the cells outside the data table (select the empty columns/rows to the "
                       "right and below it, Delete), then save and upload again.",
        "imp.too_complex": "This file is too heavy for the server to read (it went past the "
                           "memory or time limit for reading). Save just the data table again "
                           "as an Excel Workbook (.xlsx) or CSV, or split it into several files.",
        "imp.busy": "The server is reading other files. Try again in a moment.",
        "imp.cell_too_long": "Sheet '{sheet}', row {row}, column {column}: more than {max} "
                             "characters.",
        "imp.missing_sheet": "The expected sheet was not found ({expected}). Sheets in the "
                             "file: {found}. Use the template from this page.",
        "imp.bad_headers": "Sheet '{sheet}': the column headers do not match the template. "
                           "Missing: {missing}. Unknown: {unknown}.",
        "imp.duplicate_header": "Sheet '{sheet}': column '{header}' appears twice.",
        "imp.blank_header": "Sheet '{sheet}': column {column} holds data but has no header.",
        "imp.bad_kind": "Unknown kind of import.",
        "imp.has_rejected": "{count} rows rejected; nothing was saved. Fix the file, or choose "
                            "to save the valid rows only.",
        "imp.nothing_valid": "There are no valid rows to save.",
        "imp.stale": "Some records were changed by someone else during the import — check the "
                     "file again.",
        "imp.row_fields": "The row has {found} fields instead of {expected}: mixed separators "
                          "(; and ,)?",
        "imp.formula": "Holds a formula; type the value itself (formulas are not run).",
        "imp.excel_error": "Holds an Excel error value ({value}).",
        "imp.sci_notation": "The number was saved in scientific notation (e.g. 1.23457E+12) and "
                            "lost digits. Format the column as Text and type it again.",
        "imp.duplicate_nib": "This NIB is also in row(s) {rows} of this file.",
        "imp.duplicate_product": "A product of the same IKM with this name is also in row(s) "
                                 "{rows}.",
        "imp.out_of_scope": "Outside your regency.",
        "imp.nib_in_trash": "This NIB belongs to an IKM in the trash; ask an admin to restore "
                            "it.",
        "imp.ikm_nib_required": "Give the NIB of the IKM that makes this product.",
        "imp.unknown_ikm": "No IKM has NIB {nib} (neither stored nor in this file).",
        "imp.ikm_rejected": "Its IKM was rejected (sheet {sheet}, row {row}).",
        "imp.ikm_in_trash": "The IKM with this NIB is in the trash.",
        "imp.unknown_cohort": "Unknown cohort '{name}'. Write the cohort's name.",
        "imp.unknown_cohort_suggest": "Unknown cohort '{name}': write the cohort's name, e.g. "
                                      "{suggestions}.",
        "imp.possible_duplicate": "No NIB and the name already exists in this district (IKM "
                                  "#{id}): it will be added as a new IKM.",
        "imp.progress.checking": "Checking rows…",
        "imp.progress.writing": "Saving…",
        "imp.progress.audit": "Recording history…",
        "imp.progress.done": "Done.",
        "imp.report.sheet": "Sheet",
        "imp.report.row": "Row",
        "imp.report.column": "Column",
        "imp.report.value": "Value",
        "imp.report.reason": "Reason",
        "imp.tpl.title": "Import template for IKM programme data: cohorts, IKM, products and "
                         "their records",
        "imp.tpl.step1": "1. Fill in the sheets you need, one row per record: Angkatan "
                         "(cohorts), IKM, Produk (products), Sertifikat (certificates), Ritel "
                         "(retail), Ekspor (exports), Pembinaan (coaching), Keuangan "
                         "(financials). Sheets you do not use may be left empty or deleted. Row "
                         "1 holds the headers: do not change them.",
        "imp.tpl.step2": "2. Example rows (text starting with \"{example}\", or IKM NIB {nib}) "
                         "are skipped on import; you may delete them.",
        "imp.tpl.step3": "3. Orange columns are required. Pick values from the lists where "
                         "offered. Write regency, district, village, cohort, category, product, "
                         "retailer, certificate type and country by name.",
        "imp.tpl.step4": "4. The ID and Version columns (far right) are filled in by an export: "
                         "leave them as they are, and empty for new records. A row with an ID "
                         "updates that record (an IKM without an NIB too), and is refused when "
                         "someone else changed the record after the export. Without an ID the "
                         "NIB is the key: a row with a known NIB updates that IKM; a row with "
                         "neither ID nor NIB is a new IKM.",
        "imp.tpl.step5": "5. Sheets other than Angkatan and IKM are linked to their IKM by the "
                         "NIB IKM column, and to a product by the name of that IKM's product "
                         "(ignoring case). Each sheet's key is given below: a row with a known "
                         "key updates that record, the others are added.",
        "imp.tpl.step6": "6. Numbers may be written the Indonesian way (Rp 1.500.000 or "
                         "1.500.000,50; rupiah are rounded to whole numbers, halves up). A "
                         "number such as 1,250 is refused unless its column shows what it "
                         "means. Dates: dd/mm/yyyy; the order of day and month is decided per "
                         "column from all its cells (e.g. 17/08/2024), and the check says how.",
        "imp.tpl.step7": "7. On update an empty cell means \"leave as it is\". To empty a "
                         "stored value, write #KOSONG (or #CLEAR) in its cell. A lone - also "
                         "counts as empty. Formulas are not run and are rejected.",
        "imp.tpl.step8": "8. Upload the file on the Import/Export page: check first (nothing is "
                         "saved), fix the errors, then save.",
        "imp.tpl.sheet": "Sheet {sheet}",
        "imp.tpl.col_header": "Column",
        "imp.tpl.col_required": "Required",
        "imp.tpl.col_hint": "Notes",
        "imp.tpl.yes": "yes",
        "imp.tpl.choices": "Choices: {choices}.",
        "imp.tpl.pick_from_list": "Pick a value from the list.",
        "imp.tpl.sheet_optional": "This sheet may be left empty or deleted.",
        "imp.tpl.key.cohort": "Key: regency + cohort name.",
        "imp.tpl.key.ikm": "Key: NIB (a row without an NIB is always a new IKM).",
        "imp.tpl.key.product": "Key: IKM NIB + product name.",
        "imp.tpl.key.certification": "Key: IKM NIB + certificate type + product (empty for an "
                                     "enterprise certificate).",
        "imp.tpl.key.listing": "Key: IKM NIB + product + retailer.",
        "imp.tpl.key.export": "Key: IKM NIB + product + shipping date + destination country.",
        "imp.tpl.key.coaching": "Key: IKM NIB + action text + product + due date.",
        "imp.tpl.key.financials": "Key: IKM NIB + year.",
        "imp.hint.date": "A date (dd/mm/yyyy).",
        "imp.hint.nib": "13 digits. Leave empty if there is none yet.",
        "imp.hint.phone": "E.g. 081234567890 or +62 812-3456-7890.",
        "imp.hint.kabupaten_code": "Regency name.",
        "imp.hint.kecamatan_code": "District name within that regency.",
        "imp.hint.desa_code": "Village name within that district.",
        "imp.hint.founded_year": "A year, e.g. 2015.",
        "imp.hint.employees_female": "Not more than the employees.",
        "imp.hint.cohort_id": "Cohort name (a cohort of the same regency).",
        "imp.hint.export_commitment_on": "A date (dd/mm/yyyy).",
        "imp.hint.status_reason": "Required when the status is keluar (left).",
        "imp.hint.left_on": "A date (dd/mm/yyyy), when the status is keluar (left).",
        "imp.hint.ikm_nib": "NIB of the IKM this record belongs to (stored or in the IKM "
                            "sheet).",
        "imp.hint.category_code": "Category name.",
        "imp.hint.net_content": "A number above zero, e.g. 250 or 0,5.",
        "imp.hint.price_rp": "Rupiah, e.g. Rp 15.000.",
        "imp.hint.cost_rp": "Rupiah per unit.",
        "imp.hint.gtin": "Barcode number of 8, 12, 13 or 14 digits with a correct check digit.",
        "imp.hint.hs_code": "4–10 digits, e.g. 1905.90.90.",
        "imp.hint.packaging_upgraded_on": "A date (dd/mm/yyyy).",
        "imp.hint.baseline_sales_rp": "Rupiah per month before the programme.",
        "imp.hint.product_id": "Name of a product of this IKM (stored or in the Produk sheet).",
        "imp.hint.cohort.name": "Cohort name, unique within its regency.",
        "imp.hint.cohort.year": "A year, e.g. 2024. May be empty when the start date is given.",
        "imp.hint.cohort.target_participants": "A whole number 1–1000; empty means 120.",
        "imp.hint.certification.cert_type_code": "Certificate type name from the list (its "
                                                 "code, e.g. HALAL, is accepted too).",
        "imp.hint.certification.product_id": "Name of this IKM's product for a product "
                                             "certificate; empty for an enterprise certificate "
                                             "(e.g. NIB).",
        "imp.hint.certification.status": "Status proses (filed) needs the filing date; terbit "
                                         "(issued) needs the issue date.",
        "imp.hint.certification.expires_on": "A date (dd/mm/yyyy). When empty and the status "
                                             "is terbit, computed from the type's validity.",
        "imp.hint.listing.retailer_id": "Retailer name from the list.",
        "imp.hint.listing.status": "Status delisting needs the delisting date.",
        "imp.hint.listing.repeat_orders": "A whole number; empty means 0.",
        "imp.hint.export.country": "Country name in Indonesian (e.g. Malaysia, Arab Saudi) or "
                                   "its two-letter ISO code (MY, SA).",
        "imp.hint.export.volume": "A number above zero.",
        "imp.hint.export.unit": "Free text, e.g. kg or karton.",
        "imp.hint.export.value_usd": "US dollars, e.g. 1250,50.",
        "imp.hint.export.route": "Empty means direct; aggregator when shipped through a "
                                 "collector or another exporter.",
        "imp.hint.coaching.text": "A concrete action, e.g. \"Fix the label\".",
        "imp.hint.coaching.product_id": "May be empty; if given, a product name of this IKM.",
        "imp.hint.financials.year": "Financial year, e.g. 2023; one row per IKM per year.",
        "imp.hint.financials.capital_rp": "Rupiah. Give at least one of capital, revenue, "
                                          "export revenue.",
        "imp.hint.financials.revenue_rp": "Rupiah per year.",
        "imp.hint.financials.export_revenue_rp": "Rupiah per year; not more than the revenue.",
    },
}
