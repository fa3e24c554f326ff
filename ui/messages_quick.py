"""Messages of quick entry on Data IKM: the one-submit add form, field marks, the detail search
and the list tab of read-only roles."""

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        "qe.tab_list_edit": "Daftar dan ubah",
        "qe.tab_list_view": "Daftar",
        "qe.required_note": "Isian bertanda * wajib diisi. Kabupaten mengikuti kecamatan; "
                            "memilih desa saja juga mengisi kecamatannya.",
        "qe.kecamatan": "Kecamatan *",
        "qe.desa": "Desa/kelurahan",
        "qe.place_hint": "Ketik untuk mencari",
        "qe.cohort": "Angkatan",
        "qe.product_part": "Produk pertama (boleh dikosongkan)",
        "qe.product_name": "Nama produk",
        "qe.product_category": "Kategori produk",
        "qe.none": "—",
        "qe.choose": "Pilih…",
        "qe.errors": "{count} isian perlu diperbaiki (isian Anda tetap ada):",
        "qe.errors_short": "{count} isian perlu diperbaiki (lihat tanda merah).",
        "qe.saved_with_product": "IKM «{name}» disimpan bersama produk «{product}».",
        "qe.detail_search": "Cari IKM",
        "qe.detail_search_hint": "Nama usaha, pemilik atau NIB — semua IKM yang boleh Anda lihat",
        "qe.detail_pick": "IKM",
        "qe.detail_found": "{shown} dari {total} IKM cocok; persempit pencarian bila yang dicari "
                           "tidak ada.",
        "qe.detail_from_page": "Tanpa pencarian: IKM di halaman daftar yang sedang dibuka.",
        "qe.detail_nothing": "Tidak ada IKM yang cocok dengan «{query}».",
        "qe.grid_save_top": "Simpan perubahan tabel",
    },
    "en": {
        "qe.tab_list_edit": "List and edit",
        "qe.tab_list_view": "List",
        "qe.required_note": "Fields marked * are required. The regency follows from the "
                            "district; choosing only a village fills in its district.",
        "qe.kecamatan": "District *",
        "qe.desa": "Village",
        "qe.place_hint": "Type to search",
        "qe.cohort": "Cohort",
        "qe.product_part": "First product (optional)",
        "qe.product_name": "Product name",
        "qe.product_category": "Product category",
        "qe.none": "—",
        "qe.choose": "Choose…",
        "qe.errors": "{count} fields need correcting (what you typed is kept):",
        "qe.errors_short": "{count} fields need correcting (see the red marks).",
        "qe.saved_with_product": "IKM «{name}» saved with its product «{product}».",
        "qe.detail_search": "Find an IKM",
        "qe.detail_search_hint": "Business, owner or NIB — every IKM you may see",
        "qe.detail_pick": "IKM",
        "qe.detail_found": "{shown} of {total} IKM match; narrow the search if the one you want "
                           "is not listed.",
        "qe.detail_from_page": "Without a search: the IKM on the list page now open.",
        "qe.detail_nothing": "No IKM matches «{query}».",
        "qe.grid_save_top": "Save table changes",
    },
}
