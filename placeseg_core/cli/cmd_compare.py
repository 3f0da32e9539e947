"""``placeseg compare``: two submissions on one ground truth -- both official scores side by
side, what changed and where, and (``--bootstrap N``) whether the change is real.

Exit status as ``evaluate``: 0 compared; 1 a submission cannot be scored (the validator's
messages say which file and why); 2 an input cannot be used (one line naming A or B, or the
ground truth).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..atomic import check_output_path, write_json_atomic
from ..compare import Comparison, compare_results
from ..errors import InputError
from ..evaluation import GroundTruth, evaluate, ground_truth_from_ann_dir, load_inputs
from ..evaluation.params import EvalParams
from ..jsonio import JsonFileError, paused_gc
from ..submissions import Submission
from .cmd_evaluate import eval_params, explain_unscorable, summary_lines
from .options import add_size_limit
from .progress import StderrProgress

TOP = 10  # categories and images listed in the text output


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare two submissions: both scores, what changed and where, a paired bootstrap",
        description="Score two submissions on one ground truth exactly as 'placeseg evaluate' "
        "does (the ground truth is loaded once), print both summaries side by side with the "
        "difference, the categories that gained and lost most and the images that changed most "
        "(matches at IoU 0.5); with --bootstrap N, 95% intervals of both mean APs and of the "
        "difference, and how often B beat A (definition: docs/compare.md).",
    )
    truth = p.add_mutually_exclusive_group(required=True)
    truth.add_argument("--gt", metavar="GT.json", help="ground truth (placeseg convert output)")
    truth.add_argument("--ann-dir", metavar="DIR", help="annotation PNG folder, converted on the fly "
                       "exactly as 'placeseg convert' does by default (needs --img-cat-ids)")
    p.add_argument("--img-cat-ids", metavar="FILE", help="the kit's imgCatIds.json (with --ann-dir)")
    p.add_argument("--preds", required=True, nargs=2, metavar=("A.json", "B.json"),
                   help="the two submission files")
    p.add_argument("--names", nargs=2, metavar=("A", "B"), default=None,
                   help="short names for the two files in the text output (default: A and B)")
    p.add_argument("--bootstrap", type=_resamples, default=0, metavar="N",
                   help="paired bootstrap over the images with N resamples (e.g. 1000)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="the bootstrap's seed (default 0)")
    p.add_argument("--readme-rule", action="store_true",
                   help="score only each image's 255 best predictions in both files")
    p.add_argument("--json", metavar="OUT.json", help="also write the comparison as JSON")
    p.add_argument("--workers", type=int, default=None, metavar="N", help=argparse.SUPPRESS)
    add_size_limit(p)
    p.set_defaults(func=run)


def _resamples(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of resamples") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give at least 1 resample")
    return value


def _ground_truth_source(args: argparse.Namespace) -> GroundTruth | str:
    """The ``--gt`` path, or the annotation PNGs converted as ``evaluate --ann-dir`` does."""
    if not args.ann_dir:
        return str(args.gt)
    if not args.img_cat_ids:
        raise InputError("--ann-dir needs --img-cat-ids (the kit's imgCatIds.json)")
    from .cmd_convert import summarize_findings  # noqa: PLC0415

    return ground_truth_from_ann_dir(args.ann_dir, args.img_cat_ids, progress=StderrProgress("convert"),
                                     on_findings=summarize_findings)


def _submission_failed(label: str, path: str, gt: GroundTruth, exc: InputError) -> int:
    """A file that cannot be read: one line naming it (exit 2); one that cannot be scored:
    the validator's report (exit 1). Either way the message says which of A and B it is."""
    text = str(exc)
    where = f"{label} ({path})" if path not in text else label
    if isinstance(exc, JsonFileError):
        raise InputError(f"{where}: {text}") from exc
    return explain_unscorable(path, gt, InputError(f"{where}: {text}"), "compare")


def load_both(args: argparse.Namespace, labels: tuple[str, str]) -> tuple[GroundTruth, Submission, Submission] | int:
    """Ground truth (once) and both submissions, or an exit code after saying what is wrong."""
    path_a, path_b = args.preds
    loaded: list[GroundTruth] = []
    try:
        gt, sub_a, _ = load_inputs(_ground_truth_source(args), path_a, args.workers,
                                   on_ground_truth=loaded.append)
    except InputError as exc:
        if not loaded:
            raise  # the ground truth's own fault: its message names it
        return _submission_failed(labels[0], path_a, loaded[0], exc)
    try:
        _, sub_b, _ = load_inputs(gt, path_b, args.workers)
    except InputError as exc:
        return _submission_failed(labels[1], path_b, gt, exc)
    return gt, sub_a, sub_b


def _num(value: float | None, signed: bool = False, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def text_lines(cmp: Comparison, names: tuple[str, str], paths: tuple[str, str]) -> list[str]:
    """The report: summaries side by side, mean AP, bootstrap, categories, images, notes."""
    na, nb = names
    width = max(len(na), len(nb), 6)
    lines = [f"{na}: {paths[0]}", f"{nb}: {paths[1]}", ""]
    heads = [line.rsplit(" = ", 1)[0] for line in summary_lines(cmp.a)]
    pad = max(len(h) for h in heads)
    lines.append(f"{'':<{pad}}   {na:>{width}} {nb:>{width}} {nb + ' - ' + na:>{width + 3}}")
    delta = cmp.summary_delta
    for head, key in zip(heads, cmp.a.summary, strict=True):
        lines.append(f"{head:<{pad}}   {_num(cmp.a.summary[key]):>{width}} {_num(cmp.b.summary.get(key)):>{width}} "
                     f"{_num(delta[key], True):>{width + 3}}")
    lines.append("")
    lines.append(f"mean AP: {na} {_num(cmp.a.mean_ap, digits=10)}  {nb} {_num(cmp.b.mean_ap, digits=10)}  "
                 f"{nb} - {na} {_num(cmp.mean_ap_delta, True, 10)}"
                 f"{'  (README rule applied)' if cmp.a.readme.applied else ''}")
    boot = cmp.bootstrap
    if boot is not None:
        ci = boot.ci95

        def interval(key: str, signed: bool = False) -> str:
            v = ci[key]
            return "n/a" if v is None else f"[{_num(v[0], signed, 4)}, {_num(v[1], signed, 4)}]"

        lines.append(f"bootstrap: {boot.resamples} resamples of the {len(cmp.image_ids)} images (paired, "
                     f"seed {boot.seed}); 95% interval {na} {interval('a')}  {nb} {interval('b')}  "
                     f"{nb} - {na} {interval('delta', True)}; {nb} beat {na} in {_pct(boot.b_better)} of them")
    lines.extend(_category_lines(cmp, na, nb))
    lines.extend(_image_lines(cmp, na, nb))
    for name, notes in ((na, cmp.notes_a), (nb, cmp.notes_b)):
        if notes:
            lines.append("")
            lines.extend(f"{name}: {note}" for note in notes)
    return lines


def _category_lines(cmp: Comparison, na: str, nb: str) -> list[str]:
    gained, lost = cmp.biggest_changes(TOP)
    out: list[str] = []
    for title, rows in ((f"categories that gained most ({nb} - {na}, AP)", gained),
                        (f"categories that lost most ({nb} - {na}, AP)", lost)):
        out += ["", title]
        if not rows:
            out.append("  none")
            continue
        out.append(f"{'id':>4}  {'category':<24} {na[:7]:>7} {nb[:7]:>7} {'change':>7}")
        out += [f"{c.id:>4}  {c.name[:24]:<24} {_num(c.a):>7} {_num(c.b):>7} {_num(c.delta, True):>7}" for c in rows]
    return out


def _image_lines(cmp: Comparison, na: str, nb: str) -> list[str]:
    m = cmp.matches
    out = ["", f"objects at IoU {m.iou:g} (crowd regions left out): found by both {m.both}, "
           f"only by {na} {m.a_only}, only by {nb} {m.b_only}, by neither {m.neither}",
           "", f"images that changed most at IoU {m.iou:g} (tp/fp/fn)"]
    top = m.changed_images(TOP)
    if len(top) == 0:
        return out + ["  none"]
    out.append(f"{'image_id':>10}  {na[:12]:>12}  {nb[:12]:>12}  found by one only")
    for i in top.tolist():
        a = f"{m.a.tp[i]}/{m.a.fp[i]}/{m.a.fn[i]}"
        b = f"{m.b.tp[i]}/{m.b.fp[i]}/{m.b.fn[i]}"
        out.append(f"{int(m.a.image_ids[i]):>10}  {a:>12}  {b:>12}  {int(m.found_by_one[i]):>5}")
    return out


def _evaluate_both(gt: GroundTruth, subs: tuple[Submission, Submission], args: argparse.Namespace,
                   params: EvalParams) -> Comparison:
    results = [evaluate(gt, sub, readme_rule=args.readme_rule, progress=StderrProgress(f"evaluate {label}"),
                        workers=args.workers, params=params) for sub, label in zip(subs, "AB", strict=True)]
    return compare_results(gt, results[0], results[1], subs[0], subs[1], resamples=args.bootstrap,
                           seed=args.seed, progress=StderrProgress("bootstrap"), workers=args.workers)


def run(args: argparse.Namespace) -> int:
    params = eval_params(args)
    names = tuple(args.names) if args.names else ("A", "B")
    labels = (f"A ({names[0]})", f"B ({names[1]})") if args.names else ("A", "B")
    if args.json:
        check_output_path(args.json, [*args.preds, args.gt, args.img_cat_ids], [args.ann_dir])
    # two submissions' columns and RLE dicts (millions of acyclic containers) stay alive side
    # by side: the cyclic collector would walk them again and again and find nothing
    with paused_gc():
        loaded = load_both(args, labels)
        if isinstance(loaded, int):
            return loaded
        gt, sub_a, sub_b = loaded
        cmp = _evaluate_both(gt, (sub_a, sub_b), args, params)
    for line in text_lines(cmp, (names[0], names[1]), (args.preds[0], args.preds[1])):
        print(line)
    if args.json:
        doc: dict[str, Any] = cmp.to_json()
        write_json_atomic(args.json, doc, indent=1, allow_nan=False)
    return 0
