"""Messages of the records feature, in both languages (merged into ui/catalogue.py)."""

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        # field rules (services/records.py, services/cohorts.py, services/trash.py)
        "v.cost_above_price": "Biaya produksi melebihi harga jual.",
        "v.export_above_revenue": "Omzet ekspor melebihi omzet total.",
        "rec.not_editable": "Kolom ini tidak dapat diubah di sini.",
        "rec.product_exists": "IKM ini sudah punya produk dengan nama ini.",
        "rec.product_not_of_ikm": "Produk tidak ditemukan di antara produk IKM ini.",
        "det.from_import": "Diimpor dari berkas {file}",
        "det.action.create": "dibuat",
        "det.action.update": "diubah",
        "det.action.delete": "dihapus",
        "det.action.restore": "dipulihkan",
        "det.action.import": "impor",
        "det.table.ikm": "IKM",
        "det.table.product": "Produk",
        "det.table.certification": "Sertifikat",
        "det.table.retaillisting": "Ritel modern",
        "det.table.exportrecord": "Ekspor",
        "det.table.coachingaction": "Pembinaan",
        "det.table.ikmfinancials": "Keuangan",
        "rec.product_not_of_ikm_suggest": "Produk '{value}' tidak ada pada IKM ini. Maksud Anda "
                                          "'{suggestion}'?",
        "rec.unknown_cert_type_suggest": "Jenis sertifikat '{value}' tidak dikenal. Maksud Anda "
                                         "'{suggestion}'?",
        "rec.unknown_cert_type": "Jenis sertifikat '{value}' tidak dikenal.",
        "rec.cert_needs_product": "Sertifikat jenis ini berlaku per produk: pilih produknya.",
        "rec.cert_no_product": "Sertifikat jenis ini berlaku untuk usaha atau tempat produksi, "
                               "bukan per produk: kosongkan produk.",
        "rec.cert_not_applicable": "Sertifikat jenis ini tidak berlaku untuk kategori produk "
                                   "tersebut.",
        "rec.unknown_retailer": "Ritel '{value}' tidak dikenal.",
        "rec.listing_exists": "Produk ini sudah tercatat aktif di ritel tersebut.",
        "rec.delisted_needs_status": "Tanggal delisting hanya diisi bila status 'delisting'.",
        "rec.unknown_country": "Negara '{value}' tidak dikenal (pakai kode dua huruf, "
                               "mis. MY, atau nama negara).",
        "rec.financials_empty": "Isi paling sedikit satu angka: modal, omzet atau omzet ekspor.",
        "coh.name_exists": "Sudah ada angkatan dengan nama ini di kabupaten yang sama.",
        "coh.has_members": "Angkatan ini masih punya anggota; keluarkan atau pindahkan mereka "
                           "dahulu.",
        "coh.move_has_members": "Kabupaten angkatan tidak bisa diganti selama masih ada "
                                "anggota.",
        "coh.paste_too_long": "Terlalu banyak baris sekaligus; bagi menjadi beberapa bagian.",
        "trash.parent_deleted": "IKM pemilik produk ini ada di tempat sampah; pulihkan IKM-nya "
                                "dahulu.",
        "trash.cohort_deleted": "Angkatan IKM ini ada di tempat sampah; pulihkan angkatannya "
                                "dahulu.",
        "trash.unknown_kind": "Jenis data tidak dikenal.",
        # displays (detail view, cohort members report, trash)
        "rec.expiry.expired": "Kedaluwarsa",
        "rec.expiry.soon": "Segera kedaluwarsa (≤ 60 hari)",
        "rec.history.create": "dibuat",
        "rec.history.update": "diubah",
        "rec.history.delete": "dihapus",
        "rec.history.restore": "dipulihkan",
        "coh.result.matched": "{count} IKM ditambahkan ke angkatan.",
        "coh.result.already": "{count} IKM sudah menjadi anggota.",
        "coh.result.not_found": "Baris {line}: '{value}' tidak ditemukan di antara IKM "
                                "kabupaten ini.",
        "coh.result.ambiguous": "Baris {line}: ada {count} IKM bernama '{value}'; pakai NIB-nya.",
        "coh.result.other_regency": "Baris {line}: '{value}' terdaftar di kabupaten lain.",
        "coh.result.duplicate": "Baris {line}: '{value}' sudah disebut di baris sebelumnya.",
        "coh.result.moved": "{name} dipindahkan dari angkatan lain.",
        "trash.kind.ikm": "IKM",
        "trash.kind.product": "Produk",
        "trash.kind.cohort": "Angkatan",
        "trash.restored": "Dipulihkan.",
        # changing and deleting records in the IKM detail view (ui/ikm_detail.py)
        "rec.ed.title": "Ubah atau hapus",
        "rec.ed.pick": "Data yang diubah",
        "rec.ed.pick_hint": "Pilih salah satu…",
        "rec.ed.year_fixed": "Tahun tidak dapat diubah; bila tahunnya salah, hapus lalu tambahkan "
                             "lagi.",
        "rec.ed.delete_confirm": "Saya yakin: hapus data ini (riwayat menyimpan salinannya)",
        "rec.ed.trash_confirm": "Saya yakin: pindahkan produk ini ke tempat sampah",
        "rec.ed.trash_note": "Sertifikat, listing ritel dan ekspor produk ini ikut tersembunyi "
                             "sampai admin memulihkan produknya.",
        "rec.ed.deleted": "Data dihapus.",
        "rec.ed.trashed": "«{name}» dipindahkan ke tempat sampah; admin dapat memulihkannya.",
        # owners' personal data, masked for roles without "personal.read" (services/privacy.py)
        "det.personal_hidden": "Telepon, NIB dan alamat pemilik disembunyikan untuk peran Anda.",
        "det.personal_hidden_help": "Hanya admin, kepala divisi dan staf yang melihat data "
                                    "pribadi pemilik. Unduhan Anda juga tanpa data ini.",
        "perm.personal.read": "Data pribadi pemilik: telepon, NIB, alamat",
    },
    "en": {
        "v.cost_above_price": "The unit cost is above the selling price.",
        "v.export_above_revenue": "Export revenue is above total revenue.",
        "rec.not_editable": "This field cannot be changed here.",
        "rec.product_exists": "This IKM already has a product with this name.",
        "rec.product_not_of_ikm": "No such product among this IKM's products.",
        "det.from_import": "Imported from file {file}",
        "det.action.create": "created",
        "det.action.update": "changed",
        "det.action.delete": "deleted",
        "det.action.restore": "restored",
        "det.action.import": "import",
        "det.table.ikm": "IKM",
        "det.table.product": "Product",
        "det.table.certification": "Certificate",
        "det.table.retaillisting": "Retail listing",
        "det.table.exportrecord": "Export",
        "det.table.coachingaction": "Coaching",
        "det.table.ikmfinancials": "Financials",
        "rec.product_not_of_ikm_suggest": "This IKM has no product '{value}'. Did you mean "
                                          "'{suggestion}'?",
        "rec.unknown_cert_type_suggest": "Unknown certificate type '{value}'. Did you mean "
                                         "'{suggestion}'?",
        "rec.unknown_cert_type": "Unknown certificate type '{value}'.",
        "rec.cert_needs_product": "This certificate type is per product: choose the product.",
        "rec.cert_no_product": "This certificate type is for the business or its facility, not "
                               "per product: leave the product empty.",
        "rec.cert_not_applicable": "This certificate type does not apply to that product's "
                                   "category.",
        "rec.unknown_retailer": "Unknown retailer '{value}'.",
        "rec.listing_exists": "This product is already listed at that retailer.",
        "rec.delisted_needs_status": "A delisting date goes with the status 'delisting' only.",
        "rec.unknown_country": "Unknown country '{value}' (use the two-letter code, e.g. MY, "
                               "or the country's name).",
        "rec.financials_empty": "Give at least one figure: capital, revenue or export revenue.",
        "coh.name_exists": "This regency already has a cohort with this name.",
        "coh.has_members": "This cohort still has members; remove or move them first.",
        "coh.move_has_members": "A cohort's regency cannot change while it has members.",
        "coh.paste_too_long": "Too many lines at once; split them into several parts.",
        "trash.parent_deleted": "This product's IKM is in the trash; restore the IKM first.",
        "trash.cohort_deleted": "This IKM's cohort is in the trash; restore the cohort first.",
        "trash.unknown_kind": "Unknown kind of record.",
        "rec.expiry.expired": "Expired",
        "rec.expiry.soon": "Expires soon (≤ 60 days)",
        "rec.history.create": "created",
        "rec.history.update": "changed",
        "rec.history.delete": "deleted",
        "rec.history.restore": "restored",
        "coh.result.matched": "{count} IKM added to the cohort.",
        "coh.result.already": "{count} IKM were members already.",
        "coh.result.not_found": "Line {line}: '{value}' not found among this regency's IKM.",
        "coh.result.ambiguous": "Line {line}: {count} IKM are called '{value}'; use the NIB.",
        "coh.result.other_regency": "Line {line}: '{value}' is registered in another regency.",
        "coh.result.duplicate": "Line {line}: '{value}' was already named on an earlier line.",
        "coh.result.moved": "{name} moved here from another cohort.",
        "trash.kind.ikm": "IKM",
        "trash.kind.product": "Product",
        "trash.kind.cohort": "Cohort",
        "trash.restored": "Restored.",
        "rec.ed.title": "Edit or delete",
        "rec.ed.pick": "Record to change",
        "rec.ed.pick_hint": "Choose one…",
        "rec.ed.year_fixed": "The year cannot be changed; if it is wrong, delete this year and add "
                             "it again.",
        "rec.ed.delete_confirm": "I am sure: delete this record (the history keeps a copy)",
        "rec.ed.trash_confirm": "I am sure: move this product to the trash",
        "rec.ed.trash_note": "This product's certificates, retail listings and exports are hidden "
                             "with it until an admin restores the product.",
        "rec.ed.deleted": "Record deleted.",
        "rec.ed.trashed": "«{name}» moved to the trash; an admin can restore it.",
        # owners' personal data, masked for roles without "personal.read" (services/privacy.py)
        "det.personal_hidden": "The owner's phone, NIB and address are hidden for your role.",
        "det.personal_hidden_help": "Only admins, division heads and staff see owners' personal "
                                    "data. Your downloads leave it out too.",
        "perm.personal.read": "Owners' personal data: phone, NIB, address",
    },
}
