"""erp.nfe_text: customer text within the NF-e's Latin-1 (TString). A letter outside it becomes its
base letter (transliterated, never deleted: "Łukasz Wiśniewski" sent as "UKASZ WINIEWSKI" named
someone else on the register and the NF-e); what Latin-1 has stays as typed; only what has no letter
in it (emoji, symbols, other scripts) is dropped."""

import pytest

from erp.nfe_text import nfe_text


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("Łukasz Wiśniewski", "Lukasz Wisniewski"),
        ("ŁUKASZ WIŚNIEWSKI", "LUKASZ WISNIEWSKI"),
        ("Nguyễn Văn Trỗi", "Nguyen Van Troi"),
        ("Đặng Thị Hương", "Dang Thi Huong"),
        ("Şükrü Yılmaz İnönü", "Sükrü Yilmaz Inönü"),
        ("Œuvre cœur", "OEuvre coeur"),
        ("Håkon Øvergård Straße Ærø", "Håkon Øvergård Straße Ærø"),  # Latin-1 as typed
        ("Ǿrsted", "Ørsted"),  # Ø with an accent: its Latin-1 base
        ("MŸRIAM", "MYRIAM"),  # "ÿ".upper() leaves Latin-1
        ("Ｒｕａ ﬁgueira", "Rua figueira"),  # full-width letters, a ligature
        ("Apto 12 🏠 ★ ✓", "Apto 12"),
        ("Иван Петров", ""),  # another script: nothing to keep (the name is left out, erp.payloads)
        ("D’Ávila — Sant’Ana…", "D'Ávila - Sant'Ana..."),
        ("Conceic\u0327a\u0303o", "Conceição"),  # NFD from a Mac: composed, not stripped
    ],
)
def test_letters_outside_latin_1_become_their_base_letters(typed, sent):
    assert nfe_text(typed) == sent


def test_everything_sent_is_printable_latin_1():
    text = nfe_text("Ł ł Đ đ Ħ ħ Ŧ ŧ Ŀ ŀ Ŋ ŋ ı ĸ ẞ ƒ Ə ə\u200b\u0000 \u2003 ✓ 😀")
    assert all(ord(c) <= 0xFF and c.isprintable() for c in text), text
    assert text == "L l D d H h T t L l N n i k SS f E e"
