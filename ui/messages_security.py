"""Messages of login security, the password policy and page refusals, in both languages
(merged into ui/catalogue.py)."""

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        "login.locked_until": "Terlalu banyak percobaan gagal. Coba lagi dalam {minutes} menit "
                              "(pukul {time} WIB).",
        "pw.outer_spaces": "Kata sandi tidak boleh diawali atau diakhiri spasi (formulir masuk "
                           "membuangnya, sehingga Anda tidak akan bisa masuk).",
        "pw.demo": "Kata sandi demo tidak boleh dipakai untuk akun mana pun.",
        "app.page_refused": "Halaman '{page}' tidak tersedia untuk peran Anda.",
        "app.page_refused_any": "Halaman yang diminta tidak tersedia untuk peran Anda.",
        "admin.fl_title": "Percobaan masuk gagal",
        "admin.fl_help": "Kata sandi salah dan percobaan yang ditolak karena terkunci, terbaru "
                         "di atas (waktu WIB).",
        "admin.fl_none": "Belum ada percobaan masuk gagal.",
        "admin.fl_time": "Waktu",
        "admin.audit_action": "Aksi",
        "admin.audit_change": "Rincian",
        "admin.audit_action.login": "masuk",
        "admin.audit_action.logout": "keluar",
        "admin.audit_action.revoke": "sesi dicabut",
        "admin.audit_action.password": "kata sandi diganti",
        "admin.audit_action.create": "dibuat",
        "admin.audit_action.update": "diubah",
        "admin.audit_action.disable": "dinonaktifkan",
        "admin.fl_user": "Nama pengguna",
        "admin.fl_address": "Alamat",
        "admin.fl_reason": "Alasan",
        "admin.fl_reason_bad_credentials": "Nama pengguna atau kata sandi salah",
        "admin.fl_reason_locked": "Ditolak: terkunci",
    },
    "en": {
        "login.locked_until": "Too many failed attempts. Try again in {minutes} minutes "
                              "(at {time} WIB).",
        "pw.outer_spaces": "Passwords may not begin or end with a space (the login form drops "
                           "them, so you could never log in).",
        "pw.demo": "The demo password may not be used for any account.",
        "app.page_refused": "The page '{page}' is not available for your role.",
        "app.page_refused_any": "The page you asked for is not available for your role.",
        "admin.fl_title": "Failed logins",
        "admin.fl_help": "Wrong passwords and attempts refused while locked, newest first "
                         "(times in WIB).",
        "admin.fl_none": "No failed logins yet.",
        "admin.fl_time": "Time",
        "admin.audit_action": "Action",
        "admin.audit_change": "Details",
        "admin.audit_action.login": "login",
        "admin.audit_action.logout": "logout",
        "admin.audit_action.revoke": "sessions revoked",
        "admin.audit_action.password": "password changed",
        "admin.audit_action.create": "created",
        "admin.audit_action.update": "changed",
        "admin.audit_action.disable": "disabled",
        "admin.fl_user": "Username",
        "admin.fl_address": "Address",
        "admin.fl_reason": "Reason",
        "admin.fl_reason_bad_credentials": "Wrong username or password",
        "admin.fl_reason_locked": "Refused: locked",
    },
}
