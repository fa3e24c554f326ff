"""Closed sets of values used by the tables (stored as plain strings)."""

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    head = "head"
    staff = "staff"
    assessor = "assessor"
    viewer = "viewer"


class Gender(StrEnum):
    L = "L"
    P = "P"


class LegalForm(StrEnum):
    perorangan = "perorangan"
    cv = "CV"
    pt = "PT"
    koperasi = "koperasi"
    ud = "UD"
    lainnya = "lainnya"


class IkmStatus(StrEnum):
    aktif = "aktif"
    keluar = "keluar"


class CertScope(StrEnum):
    enterprise = "enterprise"
    product = "product"
    facility = "facility"


class AppliesTo(StrEnum):
    all = "all"
    food = "food"
    nonfood = "nonfood"
    wood = "wood"


class CertStatus(StrEnum):
    belum = "belum"
    proses = "proses"
    terbit = "terbit"
    kedaluwarsa = "kedaluwarsa"
    ditolak = "ditolak"


class ListingStatus(StrEnum):
    uji_coba = "uji coba"
    listing = "listing"
    delisting = "delisting"


class CriterionSource(StrEnum):
    auto = "auto"
    assessor = "assessor"
    mixed = "auto+assessor"


class MeetingStatus(StrEnum):
    open = "open"
    closed = "closed"


class Decision(StrEnum):
    shortlist = "shortlist"
    coach_more = "coach_more"
    defer = "defer"
    reject = "reject"


class ExportRoute(StrEnum):
    direct = "direct"
    aggregator = "aggregator"


class SizeClass(StrEnum):
    mikro = "mikro"
    kecil = "kecil"
    menengah = "menengah"
    besar = "besar"


class Stage(StrEnum):
    """Pipeline stages of an IKM, in order (DATA_MODEL.md)."""

    terdaftar = "terdaftar"
    dilatih = "dilatih"
    produk_diupgrade = "produk_diupgrade"
    ritel_modern = "ritel_modern"
    dinilai = "dinilai"
    daftar_pendek = "daftar_pendek"
    siap_ekspor = "siap_ekspor"
    ekspor = "ekspor"
