"""anonymeter's three evaluators on Parquet files, for `attacks_vs_anonymeter.py`; prints one JSON object.

Runs in its own virtual environment (anonymeter pins numpy < 1.27, which synthwright's cannot load), so
it imports pandas and anonymeter only, never synthwright. The caller names the files, the columns, the
number of attacks, the linkability halves and the inference secrets, so both sides attack the same
tables the same way:

    /tmp/anon-venv/bin/python benchmarks/anonymeter_side.py --train T --holdout H --synthetic S \
        --spec '{"columns": [...], "numeric": [...], "aux_cols": [[...], [...]], "secrets": [...]}'

Singling out runs twice: as released, and with the size correction fitted to the count of
predicates that single out in each subset of the control (anonymeter 1.1 fits the number of
predicates tried, a constant; `_measure_counted`). The keys are `singling_out_<mode>` and
`singling_out_<mode>_counted`.

Nulls in category columns become the string "<null>" (anonymeter's label encoder cannot sort a null
among strings); synthwright treats a null as a value too. Numeric secrets are scored as regressions
(anonymeter's 5 % tolerance): anonymeter 1.1 defaults `regression` to False, exact equality.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
from anonymeter.evaluators import InferenceEvaluator, LinkabilityEvaluator, SinglingOutEvaluator
from anonymeter.evaluators import singling_out_evaluator as singling_module

NULL = "<null>"


def load(path: str, columns: list[str], numeric: set[str]) -> pd.DataFrame:
    frame = pd.read_parquet(path)[columns]
    out = {}
    for name in columns:
        series = frame[name]
        if name in numeric:
            values = pd.to_numeric(series).astype("float64")
            out[name] = values.astype("int64") if values.notna().all() and (values % 1 == 0).all() else values
        else:
            out[name] = series.astype(object).where(series.notna(), NULL).astype(str).astype(object)
    return pd.DataFrame(out)


def _measure_counted(df, queries, n_repeat, n_meas):
    """anonymeter's `_measure_queries_success` counting the predicates that single out in each subset.

    In anonymeter 1.1 it appends `len(_evaluate_queries(...))`, the number of predicates tried, the
    same at every size, so the size correction is fitted to a flat line. This is the count the
    earlier releases fitted (the predicates that single out), the rest of anonymeter unchanged.
    """
    sizes, successes = [], []
    for n_rows in np.linspace(min(1000, len(df)), len(df), n_meas).astype(int):
        for _ in range(n_repeat):
            sample = df.sample(n_rows, with_replacement=False)
            successes.append(
                len(singling_module._evaluate_queries_and_return_successful(df=sample, queries=queries))
            )
            sizes.append(n_rows)
    return np.array(sizes), np.array(successes)


def summary(evaluator) -> dict:
    """Risk, its interval and the three success rates, as anonymeter reports them."""
    risk = evaluator.risk(confidence_level=0.95)
    results = evaluator.results(confidence_level=0.95)
    return {
        "risk": float(risk.value),
        "interval": [float(risk.ci[0]), float(risk.ci[1])],
        "main_rate": float(results.attack_rate.value),
        "control_rate": float(results.control_rate.value),
        "baseline_rate": float(results.baseline_rate.value),
        "n_attacks": int(results.n_attacks_ori),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--holdout", required=True)
    parser.add_argument("--synthetic", required=True)
    parser.add_argument("--spec", required=True, help="JSON: columns, numeric, aux_cols, secrets")
    parser.add_argument("--n-attacks", type=int, default=500)
    parser.add_argument("--n-cols", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    spec = json.loads(args.spec)
    columns, numeric = spec["columns"], set(spec["numeric"])
    train, holdout, synthetic = (
        load(p, columns, numeric) for p in (args.train, args.holdout, args.synthetic)
    )
    np.random.seed(args.seed)  # pandas' .sample() inside the linkability and inference evaluators

    out: dict = {"seconds": {}}
    started = time.perf_counter()
    released = singling_module._measure_queries_success
    for variant, measure in (("", released), ("_counted", _measure_counted)):
        singling_module._measure_queries_success = measure
        for mode in ("univariate", "multivariate"):
            evaluator = SinglingOutEvaluator(
                ori=train,
                syn=synthetic,
                control=holdout,
                n_attacks=args.n_attacks,
                n_cols=args.n_cols,
                seed=args.seed,
            )
            try:
                out[f"singling_out_{mode}{variant}"] = summary(evaluator.evaluate(mode=mode))
            except RuntimeError as error:  # the size correction's curve fit can fail
                out[f"singling_out_{mode}{variant}"] = {"error": str(error)}
    singling_module._measure_queries_success = released
    out["seconds"]["singling_out"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    evaluator = LinkabilityEvaluator(
        ori=train,
        syn=synthetic,
        control=holdout,
        aux_cols=tuple(spec["aux_cols"]),
        n_attacks=args.n_attacks,
        n_neighbors=1,
    )
    out["linkability"] = summary(evaluator.evaluate(n_jobs=1))
    out["seconds"]["linkability"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    out["attribute_inference"] = {}
    for secret in spec["secrets"]:
        evaluator = InferenceEvaluator(
            ori=train,
            syn=synthetic,
            control=holdout,
            aux_cols=[c for c in columns if c != secret],
            secret=secret,
            regression=secret in numeric,
            n_attacks=args.n_attacks,
        )
        out["attribute_inference"][secret] = summary(evaluator.evaluate(n_jobs=1))
    out["seconds"]["attribute_inference"] = round(time.perf_counter() - started, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
