"""cripto_pipeline.csv_dialect: bytes to text (size, emptiness, compression, UTF-16, NUL bytes, Latin-1,
control bytes), the delimiter, the decimal comma and the footer, each refusal and note asserted
literally, with the boundaries of every rule (issue 16)."""

from __future__ import annotations

import pytest

from cripto_pipeline import csv_dialect, exceptions

BINARY_FIX = "Upload a plain-text CSV encoded as UTF-8 (export as 'CSV UTF-8'; decompress .gz/.zip first)."


def _decode(data: bytes, max_bytes: int = 1000):
    notes = []
    return csv_dialect.decode(data, max_bytes, notes), notes


def _refusal(error_class, data: bytes, max_bytes: int = 1000):
    with pytest.raises(error_class) as caught:
        _decode(data, max_bytes)
    return caught.value.what, caught.value.where, caught.value.fix


# --- decode ---------------------------------------------------------------------------------------


def test_a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_refused():
    assert _decode(b"a,b\n", 4) == ("a,b\n", [])
    assert _refusal(exceptions.InputTooLargeError, b"a,b\n", 3) == (
        "The file has more than 3 bytes (the limit).", {"limit_bytes": 3, "size_bytes_at_least": 4},
        "Split the file into smaller uploads (one per symbol or per period) or raise MAX_RAW_BYTES.")


def test_a_file_of_whitespace_only_is_empty():
    assert _refusal(exceptions.EmptyInputError, b" \n\t") == (
        "The file is empty.", {"size_bytes": 3}, "Upload a CSV with a header line and at least one data row.")


@pytest.mark.parametrize("data, first_bytes", [(b"\x1f\x8b\x08\x00abc", "1f8b0800"), (b"PK\x03\x04abc", "504b0304")])
def test_gzip_and_zip_files_are_refused_as_compressed(data, first_bytes):
    assert _refusal(exceptions.UndecodableContentError, data) == (
        "The file is compressed (gzip or zip), not a CSV.", {"first_bytes": first_bytes},
        "Decompress it and upload the CSV inside.")


def test_bytes_that_only_start_like_gzip_or_zip_are_text():
    assert _decode(b"\x1f,b\n") == ("\x1f,b\n", [])
    assert _decode(b"PK\x03\x05,b\n") == ("PK\x03\x05,b\n", [])


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_or_without_a_bom_is_decoded_and_reported(codec):
    assert _decode("a,b\n1,2\n".encode(codec)) == ("a,b\n1,2\n", ["Decoded the file from UTF-16."])


def test_utf16_that_does_not_decode_or_decodes_to_nul_is_binary():
    # BOM, 'a', then an unpaired surrogate: not UTF-16; the NUL byte at offset 3 is reported.
    assert _refusal(exceptions.UndecodableContentError, b"\xff\xfea\x00\x00\xd8") == (
        "The file contains NUL bytes: it is binary, not text.", {"byte_offset": 3}, BINARY_FIX)
    # BOM, 'a', U+0000: decodes, but to a NUL character.
    assert _refusal(exceptions.UndecodableContentError, b"\xff\xfea\x00\x00\x00b\x00") == (
        "The file contains NUL bytes: it is binary, not text.", {"byte_offset": 3}, BINARY_FIX)


def test_a_nul_byte_in_utf8_text_is_refused_with_its_offset():
    assert _refusal(exceptions.UndecodableContentError, b"a,b\nx\x00y\n") == (
        "The file contains NUL bytes: it is binary, not text.", {"byte_offset": 5}, BINARY_FIX)


def test_a_utf8_bom_is_dropped_silently():
    assert _decode("\ufeffa,b\n".encode("utf-8")) == ("a,b\n", [])


def test_latin1_text_is_decoded_naming_the_first_byte_that_is_not_utf8():
    assert _decode("a,b\nJosé,2\n".encode("latin-1")) == (
        "a,b\nJosé,2\n", ["The file is not UTF-8 (byte e9 at offset 7); decoded it as Latin-1."])


def test_control_bytes_are_refused_with_their_line_offset_and_eight_bytes():
    data = b"a,b\n1,2\n3,\x81\x90\x9f\xe9abcdefgh\n"
    assert _refusal(exceptions.UndecodableContentError, data) == (
        "The file is not text: it is neither UTF-8, UTF-16 nor Latin-1.",
        {"line": 3, "byte_offset": 10, "bytes": "81909fe961626364"}, "Save the file as CSV text (UTF-8).")


# --- the UTF-16 pattern without a BOM -------------------------------------------------------------


def test_the_utf16_pattern_needs_eight_bytes_and_more_than_nine_nuls_in_ten():
    assert csv_dialect._utf16_codec(b"a\x00b\x00c\x00d\x00") == "utf-16-le"
    assert csv_dialect._utf16_codec(b"\x00a\x00b\x00c\x00d") == "utf-16-be"
    assert csv_dialect._utf16_codec(b"a\x00b\x00c\x00d") is None  # 7 bytes
    assert csv_dialect._utf16_codec(b"\x00a\x00b\x00c\x00") is None  # 7 bytes
    assert csv_dialect._utf16_codec(b"\xff\xfeab") == "utf-16"
    assert csv_dialect._utf16_codec(b"\xfe\xffab") == "utf-16"
    # 10 odd bytes of which 9 are NUL: 9 is not more than 0.9 x 10
    nine_of_ten = b"".join(b"a\x00" for _ in range(9)) + b"ab"
    assert csv_dialect._utf16_codec(nine_of_ten) is None
    assert csv_dialect._utf16_codec(b"".join(b"a\x00" for _ in range(10))) == "utf-16-le"
    assert csv_dialect._utf16_codec(b"ba" + b"".join(b"\x00a" for _ in range(9))) is None


def test_a_nul_at_byte_200_is_outside_the_utf16_pattern():
    # Even bytes 0-198: 90 NULs of 100, not more than 90 %; byte 200 is NUL too, but beyond the 200 looked at.
    data = b"\x00a" * 90 + b"AB" * 10 + b"\x00a"
    assert csv_dialect._utf16_codec(data) is None
    assert _refusal(exceptions.UndecodableContentError, data)[:2] == (
        "The file contains NUL bytes: it is binary, not text.", {"byte_offset": 0})


def test_every_bom_at_the_start_of_utf16_text_is_dropped():
    assert _decode("\ufeff\ufeffa,b\n".encode("utf-16")) == ("a,b\n", ["Decoded the file from UTF-16."])


def test_only_the_first_200_bytes_are_looked_at():
    # 200 bytes of UTF-16-LE pattern, then ASCII: still the pattern; ASCII first, then the pattern: not.
    assert csv_dialect._utf16_codec(b"a\x00" * 100 + b"abcdefgh" * 50) == "utf-16-le"
    assert csv_dialect._utf16_codec(b"ab" * 100 + b"a\x00" * 200) is None


# --- delimiter ------------------------------------------------------------------------------------


def test_the_delimiter_that_splits_the_lines_alike_and_widest_wins():
    assert csv_dialect.sniff_delimiter("a;b;c\n1;2;3\n") == ";"
    assert csv_dialect.sniff_delimiter("a|b\n1|2\n") == "|"
    assert csv_dialect.sniff_delimiter("a\tb\tc\n1\t2\t3") == "\t"
    # a banner with a comma does not outweigh two lines agreeing on three semicolon fields
    assert csv_dialect.sniff_delimiter("banner, with comma\na;b;c\n1;2;3\n") == ";"
    # a tie keeps the first delimiter in order (comma)
    assert csv_dialect.sniff_delimiter("a,b;c\n1,2;3\n") == ","


def test_no_delimiter_or_no_text_means_comma():
    assert csv_dialect.sniff_delimiter("") == ","
    assert csv_dialect.sniff_delimiter("abc\ndef\n") == ","
    assert csv_dialect.sniff_delimiter("\n\n  \n") == ","


def test_only_the_first_30_non_blank_lines_are_sniffed():
    # 29 semicolon lines, then comma lines: of the first 30 lines, 29 agree on two semicolon fields; of all
    # 60 lines read, 31 would agree on three comma fields.
    text = "".join("a;b\n" for _ in range(29)) + "".join("a,b,c\n" for _ in range(40))
    assert csv_dialect.sniff_delimiter(text) == ";"


def test_a_31st_line_does_not_break_a_tie_of_the_first_30():
    # 20 lines split alike by comma and semicolon, 5 only by comma, 5 only by semicolon: a tie, the comma
    # (first) wins; a 31st semicolon line is not read.
    text = "a,b;c,d;e\n" * 20 + "a,b,c\n" * 5 + "a;b;c\n" * 6
    assert csv_dialect.sniff_delimiter(text) == ","


def test_blank_lines_do_not_count_among_the_30_but_only_60_lines_are_read():
    text = "\n" * 59 + "a;b\n" + "".join("x,y,z\n" for _ in range(5))
    assert csv_dialect.sniff_delimiter(text) == ";"  # only line 60 is read


# --- rewriting as comma-separated -----------------------------------------------------------------


def test_semicolons_and_decimal_commas_are_rewritten_line_for_line():
    notes = []
    text = "date;open;close\n2020-01-01;1.234,5;7,25\n\n2020-01-02;1,0;2\n"
    assert csv_dialect.to_comma_text(text, notes) == "date,open,close\n2020-01-01,1234.5,7.25\n\n2020-01-02,1.0,2\n"
    assert notes == ["Read the file as semicolon-separated.",
                     "Read 3 number(s) written with a decimal comma (e.g. '1.234,5' = 1234.5)."]


def test_decimal_points_beside_semicolons_stay_and_comma_text_is_untouched():
    notes = []
    assert csv_dialect.to_comma_text("a;b\n1.5;2\n", notes) == "a,b\n1.5,2\n"
    assert notes == ["Read the file as semicolon-separated."]
    notes = []
    assert csv_dialect.to_comma_text("a,b\n1.5,2\n", notes) == "a,b\n1.5,2\n" and notes == []


def test_tab_separated_cells_with_a_decimal_comma_and_padding():
    notes = []
    assert csv_dialect.to_comma_text("a\tb\n 1,5 \t2\n", notes) == "a,b\n1.5,2\n"
    assert notes == ["Read the file as tab-separated.",
                     "Read 1 number(s) written with a decimal comma (e.g. '1.234,5' = 1234.5)."]


def test_a_decimal_comma_is_looked_for_in_the_first_200_rows_only():
    rows = "a;b\n" + "".join("1;2\n" for _ in range(199))
    notes = []
    assert csv_dialect.to_comma_text(rows + "3,5;4\n", notes).endswith('\n"3,5",4\n')  # row 201: kept
    assert notes == ["Read the file as semicolon-separated."]
    rows = "a;b\n" + "".join("1;2\n" for _ in range(198))
    notes = []
    assert csv_dialect.to_comma_text(rows + "3,5;4\n", notes).endswith("\n3.5,4\n")  # row 200
    assert notes[1] == "Read 1 number(s) written with a decimal comma (e.g. '1.234,5' = 1234.5)."


@pytest.mark.parametrize("cell, expected", [
    ("1.234,56", "1234.56"), ("-1,5", "-1.5"), ("+12,0", "+12.0"), (" 1.234.567,8 ", "1234567.8"),
    ("1.23,4", "1.23,4"), ("12.34", "12.34"), ("1,2,3", "1,2,3"), ("abc", "abc"), ("1234.567,8", "1234.567,8"),
])
def test_a_decimal_comma_number_gets_a_point_and_anything_else_stays(cell, expected):
    assert csv_dialect._point(cell) == expected


# --- footer ---------------------------------------------------------------------------------------


def test_footer_lines_with_fewer_fields_are_dropped_and_the_first_one_is_quoted():
    notes = []
    body = "1,2,3\n4,5,6\nHighest: 5\nLowest: 1\n"
    assert csv_dialect.strip_footer(body, 3, notes) == "1,2,3\n4,5,6\n"
    assert notes == ["Skipped 2 line(s) after the data (footer): 'Highest: 5'."]


def test_at_most_five_footer_lines_are_dropped():
    notes = []
    assert csv_dialect.strip_footer("1,2,3\n" + "x\n" * 6, 3, notes) == "1,2,3\nx\n"
    assert notes == ["Skipped 5 line(s) after the data (footer): 'x'."]
    notes = []
    assert csv_dialect.strip_footer("1,2,3\n" + "x\n" * 3, 3, notes, limit=2) == "1,2,3\nx\n"
    assert notes == ["Skipped 2 line(s) after the data (footer): 'x'."]


def test_blank_and_crlf_lines_around_the_footer():
    notes = []
    assert csv_dialect.strip_footer("1,2,3\r\n\r\nfoot\r\n \n", 3, notes) == "1,2,3\r\n"
    assert notes == ["Skipped 1 line(s) after the data (footer): 'foot'."]


def test_a_long_footer_is_quoted_to_80_characters():
    notes = []
    footer = "f" * 100
    assert csv_dialect.strip_footer(f"1,2,3\n{footer}\n", 3, notes) == "1,2,3\n"
    assert notes == [f"Skipped 1 line(s) after the data (footer): {'f' * 80!r}."]


def test_rows_with_as_many_or_more_fields_are_data_and_nothing_is_dropped():
    for body in ("1,2,3\n4,5,6\n", "1,2,3\n1,2,3,4\n", "1,2,3\n4,5,6"):
        notes = []
        assert csv_dialect.strip_footer(body, 3, notes) == body and notes == []


def test_a_body_that_is_only_footer_keeps_a_newline():
    notes = []
    assert csv_dialect.strip_footer("foot\n", 3, notes) == "\n"
    assert notes == ["Skipped 1 line(s) after the data (footer): 'foot'."]
