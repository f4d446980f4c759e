from common.text import sort_key


def test_names_sort_in_vietnamese_order():
    names = ["Đỗ Văn Hải", "Dương Thị Bình", "Ân Văn Tú", "Anh Thị Lan", "Ông Văn Ba",
             "Ơn Thị Mai", "Ong Thị Nụ", "Ưng Văn Tư", "Uông Thị Hà", "Đào Thị Cúc", "Dung Văn A",
             "Bùi Văn Nam", "Vũ Thị Yến", "Ăn Văn Khá"]  # fmt: skip
    assert sorted(names, key=sort_key) == [
        "Anh Thị Lan", "Ăn Văn Khá", "Ân Văn Tú", "Bùi Văn Nam", "Dung Văn A", "Dương Thị Bình",
        "Đào Thị Cúc", "Đỗ Văn Hải", "Ong Thị Nụ", "Ông Văn Ba", "Ơn Thị Mai", "Uông Thị Hà",
        "Ưng Văn Tư", "Vũ Thị Yến",
    ]  # fmt: skip


def test_tones_do_not_count_and_case_does_not_either():
    assert sort_key("Hòa") == sort_key("hoa") == sort_key("Hóa")
    assert sort_key("  Lê   Thị ") == sort_key("lê thị")


def test_a_family_name_sorts_before_a_longer_one_it_starts():
    assert sorted(["Lê Văn", "Lê", "Lệ Thủy"], key=sort_key) == ["Lê", "Lệ Thủy", "Lê Văn"]
