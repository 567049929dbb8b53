"""One evaluation of synthetic rows: contract, fidelity, privacy and utility, then the gates.

Three frames, three roles: `train` is what the generator learned from, `holdout` is real data it never
saw (the control for privacy, the test set for utility, the real side of the detection test), and
`synthetic` is what is being judged. `synthwright evaluate` and the pipeline's evaluate step both call
`evaluate`; the report renders its result.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthwright.data_contracts.model import Contract, RareValues
from synthwright.errors import UserInputError
from synthwright.validators.attacks import Attacks, attack_risks
from synthwright.validators.contract import ContractReport, ParseFailure, validate_contract
from synthwright.validators.fidelity import Detection, Fidelity, detection, fidelity
from synthwright.validators.gates import Gates, Scorecard, score
from synthwright.validators.lift import Lift
from synthwright.validators.privacy import Privacy, privacy
from synthwright.validators.utility import Task, Utility, utility

log = logging.getLogger("synthwright.evaluate")


@dataclass(frozen=True)
class Evaluation:
    scorecard: Scorecard
    contract_report: ContractReport
    fidelity: Fidelity
    reference: Fidelity
    """Fidelity of the real holdout against train: the floor that sampling noise alone gives."""
    detection: Detection
    privacy: Privacy
    utility: Utility | None
    rows: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    attacks: Attacks | None = None
    """Singling-out, linkability and attribute-inference risks (validators.attacks)."""
    lift: Lift | None = None
    """An augmentation's utility lift (real + synthetic vs real alone); None for a synthesis."""

    @property
    def passed(self) -> bool:
        return self.scorecard.passed

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; a figure that could not be computed (NaN) is null."""
        return _json_safe(
            {
                "passed": self.passed,
                "scorecard": self.scorecard.to_dict(),
                "rows": self.rows,
                "fidelity": self.fidelity.to_dict(),
                "reference_fidelity": self.reference.to_dict(),
                "detection": self.detection.to_dict(),
                "privacy": self.privacy.to_dict(),
                "utility": self.utility.to_dict() if self.utility else None,
                "attacks": self.attacks.to_dict() if self.attacks else None,
                "contract": self.contract_report.to_dict(),
                "seconds": self.seconds,
            }
        )


def holdout_rows_in_train(train: pd.DataFrame, holdout: pd.DataFrame, contract: Contract) -> int:
    """Holdout rows equal to some training row in every contract column (nulls equal nulls)."""
    names = [n for n in contract.names if n in train and n in holdout]
    if not names:
        return 0
    keys = [pd.util.hash_pandas_object(f[names], index=False).to_numpy() for f in (train, holdout)]
    return int(np.isin(keys[1], keys[0]).sum())


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def evaluate(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    contract: Contract,
    *,
    gates: Gates | None = None,
    target: str | None = None,
    task: Task | None = None,
    seed: int = 0,
    parse_failures: Sequence[ParseFailure] = (),
    rare_values: RareValues | None = None,
    whole: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> Evaluation:
    """Measure everything and apply `gates` (the defaults when None). Utility needs a `target`.

    `parse_failures` are synthetic values that could not be read as their column's kind (from ingest):
    they count as contract violations. `rare_values` is the run's default rare-value protection (the
    `rare_value_leaks` gate counts values it should have withheld). `whole`: the whole train and holdout
    splits when `train` and `holdout` are only the rows like an augmentation's groups (rare values and
    copied texts are judged against what the generator learned from).
    """
    gates = gates or Gates()
    for role, frame in (("train", train), ("holdout", holdout), ("synthetic", synthetic)):
        if len(frame) < 2:
            raise UserInputError(
                f"the {role} data has {len(frame)} row(s): too few to evaluate",
                hint="give at least 2 rows of each (a few hundred for figures worth reading)",
            )
    seconds: dict[str, float] = {}
    shared = holdout_rows_in_train(train, holdout, contract)
    if shared:
        log.warning(
            "%s of %s holdout rows equal a training row in every column: a generator that copies training "
            "rows looks as close to the holdout as to train there, which blunts the privacy tests (split "
            "identical rows to one side, as `synthwright run` does)",
            f"{shared:,}",
            f"{len(holdout):,}",
        )

    def timed(name: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = function(*args, **kwargs)
        seconds[name] = round(time.perf_counter() - started, 2)
        log.info("%s measured in %.1fs", name, seconds[name])
        return result

    contract_report = timed(
        "contract",
        validate_contract,
        synthetic,
        contract,
        source="synthetic output",
        parse_failures=parse_failures,
    )
    measured = timed("fidelity", fidelity, train, synthetic, contract, seed=seed)
    reference = timed("reference_fidelity", fidelity, train, holdout, contract, seed=seed)
    detected = timed("detection", detection, holdout, synthetic, contract, seed=seed)
    private = timed(
        "privacy",
        privacy,
        train,
        holdout,
        synthetic,
        contract,
        seed=seed,
        rare_values=rare_values,
        whole=whole,
    )
    attacked = timed("attacks", attack_risks, train, holdout, synthetic, contract, seed=seed)
    useful = (
        timed("utility", utility, train, holdout, synthetic, contract, target, task=task, seed=seed)
        if target
        else None
    )
    rows = {"train": len(train), "holdout": len(holdout), "synthetic": len(synthetic)}
    scorecard = score(
        gates,
        measured,
        contract_report,
        reference,
        detection=detected,
        privacy=private,
        attacks=attacked,
        utility=useful,
        tables=rows,
    )
    return Evaluation(
        scorecard=scorecard,
        contract_report=contract_report,
        fidelity=measured,
        reference=reference,
        detection=detected,
        privacy=private,
        utility=useful,
        rows=rows,
        seconds=seconds,
        attacks=attacked,
    )
