"""Messages of database and disk faults and the system health panel, in both languages (merged
into ui/catalogue.py). Each says what happened and what an admin should do."""

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        "fault.title": "Aplikasi tidak dapat melanjutkan",
        "fault.db_unreachable": "Basis data tidak dapat dihubungi ({where}). Data Anda aman. "
                                "Admin: pastikan server PostgreSQL berjalan dan alamat "
                                "DATABASE_URL benar.",
        "fault.db_lost": "Sambungan ke basis data terputus ({where}). Perubahan yang sedang "
                         "disimpan tidak tersimpan; data lain aman. Admin: periksa server "
                         "PostgreSQL. Halaman pulih sendiri begitu server kembali.",
        "fault.db_open": "Berkas basis data tidak dapat dibuka ({where}). Admin: periksa berkas "
                         "dan foldernya.",
        "fault.db_no_folder": "Folder berkas basis data tidak ada ({where}). Admin: buat "
                              "foldernya atau atur IKM_DATA_DIR / DATABASE_URL.",
        "fault.db_unreadable": "Berkas basis data tidak dapat dibaca oleh aplikasi ({where}). "
                               "Admin: berikan izin baca-tulis kepada pengguna server.",
        "fault.db_readonly": "Berkas basis data atau foldernya hanya-baca ({where}); tidak ada "
                             "yang bisa disimpan. Admin: izinkan server menulis ke sana.",
        "fault.folder_readonly": "Server tidak bisa menulis ke folder data ({where}): hanya-baca "
                                 "atau tanpa izin. Admin: periksa izin dan mount folder itu.",
        "fault.disk_full": "Server tidak bisa menulis: disk penuh ({where}). Yang sedang "
                           "disimpan tidak tersimpan, dan file atau isian Anda tidak "
                           "bermasalah. Admin: kosongkan ruang disk, lalu coba lagi.",
        "fault.server_resources": "Server kehabisan sumber daya ({where}). Admin: periksa "
                                  "memori dan berkas terbuka server.",
        "fault.db_corrupt": "Berkas basis data rusak ({where}: {detail}). Aplikasi berhenti "
                            "melayani agar tidak menampilkan data yang salah. Admin: pulihkan "
                            "dari cadangan terakhir (python -m db restore-backup).",
        "fault.db_busy": "Basis data sedang sibuk terlalu lama ({where}). Coba lagi sebentar "
                         "lagi; bila berulang, admin memeriksa proses lain yang menulis.",
        "fault.unexpected": "Terjadi kesalahan yang tidak terduga. Sudah dicatat di log server "
                            "(kode {ref}). Coba muat ulang halaman.",
        "fault.ref": "Kode untuk admin: {ref} (lihat log server).",
        "fault.retry": "Coba lagi",
        # system health (Admin)
        "health.title": "Kesehatan sistem",
        "health.kind": "Basis data",
        "health.size": "Ukuran",
        "health.version": "Versi data",
        "health.integrity": "Pemeriksaan integritas",
        "health.integrity_ok": "baik",
        "health.integrity_bad": "RUSAK: {detail}",
        "health.integrity_skip": "tidak berlaku (PostgreSQL memeriksa sendiri)",
        "health.last_backup": "Cadangan terakhir",
        "health.no_backup": "belum pernah",
        "health.backup_by": "{when} oleh {who} ({how})",
        "health.free_disk": "Ruang disk bebas",
        "health.disk_of": "{free} dari {total} ({folder})",
        "health.revision": "Skema",
        "health.check_now": "Periksa sekarang",
        "health.warn_disk": "Ruang disk tinggal {free}: kosongkan sebelum penuh.",
        "health.warn_backup": "Cadangan terakhir lebih dari 7 hari yang lalu (atau belum ada).",
    },
    "en": {
        "fault.title": "The app cannot go on",
        "fault.db_unreachable": "The database cannot be reached ({where}). Your data is safe. "
                                "Admin: make sure the PostgreSQL server runs and DATABASE_URL "
                                "is right.",
        "fault.db_lost": "The connection to the database was lost ({where}). What was being "
                         "saved was not saved; other data is safe. Admin: check the PostgreSQL "
                         "server. The page recovers by itself once the server is back.",
        "fault.db_open": "The database file cannot be opened ({where}). Admin: check the file "
                         "and its folder.",
        "fault.db_no_folder": "The database file's folder does not exist ({where}). Admin: "
                              "create it, or set IKM_DATA_DIR / DATABASE_URL.",
        "fault.db_unreadable": "The app cannot read the database file ({where}). Admin: give "
                               "the server's user read and write permission.",
        "fault.db_readonly": "The database file or its folder is read-only ({where}); nothing "
                             "can be saved. Admin: let the server write there.",
        "fault.folder_readonly": "The server cannot write to the data folder ({where}): "
                                 "read-only or no permission. Admin: check that folder's "
                                 "permissions and mount.",
        "fault.disk_full": "The server cannot write: the disk is full ({where}). What was being "
                           "saved was not saved, and your file or input is fine. Admin: free "
                           "disk space, then try again.",
        "fault.server_resources": "The server ran out of resources ({where}). Admin: check the "
                                  "server's memory and open files.",
        "fault.db_corrupt": "The database file is damaged ({where}: {detail}). The app stopped "
                            "serving so as not to show wrong data. Admin: restore the latest "
                            "backup (python -m db restore-backup).",
        "fault.db_busy": "The database was busy for too long ({where}). Try again in a moment; "
                         "if it keeps happening, an admin checks other processes writing to it.",
        "fault.unexpected": "Something unexpected went wrong. It was written to the server log "
                            "(code {ref}). Try reloading the page.",
        "fault.ref": "Code for the admin: {ref} (see the server log).",
        "fault.retry": "Try again",
        "health.title": "System health",
        "health.kind": "Database",
        "health.size": "Size",
        "health.version": "Data version",
        "health.integrity": "Integrity check",
        "health.integrity_ok": "good",
        "health.integrity_bad": "DAMAGED: {detail}",
        "health.integrity_skip": "not applicable (PostgreSQL checks itself)",
        "health.last_backup": "Last backup",
        "health.no_backup": "never",
        "health.backup_by": "{when} by {who} ({how})",
        "health.free_disk": "Free disk space",
        "health.disk_of": "{free} of {total} ({folder})",
        "health.revision": "Schema",
        "health.check_now": "Check now",
        "health.warn_disk": "Only {free} of disk left: free some before it is full.",
        "health.warn_backup": "The last backup is more than 7 days old (or there is none).",
    },
}
