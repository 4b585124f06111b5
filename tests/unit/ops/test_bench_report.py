"""make bench-local rewrites docs/performance.md but keeps the sections other measurements own."""

from __future__ import annotations

from pathlib import Path

from vidsense_local.bench import keep_marked_sections

BURST = "<!-- burst:start -->\n## Burst of 100\n| total | 412 s |\n<!-- burst:end -->"


def test_marked_sections_of_the_old_report_survive_a_rewrite(tmp_path: Path) -> None:
    old = tmp_path / "performance.md"
    old.write_text(f"# Old numbers\n| median | 99 s |\n\n{BURST}\n")
    new = keep_marked_sections("# Local stack performance\n| median | 9 s |\n", old)
    assert new.startswith("# Local stack performance\n| median | 9 s |")
    assert BURST in new
    assert "99 s" not in new


def test_without_an_old_report_or_sections_the_new_report_is_unchanged(tmp_path: Path) -> None:
    report = "# Local stack performance\n"
    assert keep_marked_sections(report, tmp_path / "missing.md") == report
    plain = tmp_path / "plain.md"
    plain.write_text("# no sections\n")
    assert keep_marked_sections(report, plain) == report


def test_an_unterminated_marker_is_not_kept(tmp_path: Path) -> None:
    old = tmp_path / "performance.md"
    old.write_text("<!-- burst:start -->\nhalf a section\n")
    assert keep_marked_sections("# new\n", old) == "# new\n"
