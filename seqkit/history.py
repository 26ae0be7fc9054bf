"""What training did, epoch by epoch: :class:`History`, the second value ``fit`` returns.

>>> History(loss=[3.2, 1.5], accuracy=[0.04, 0.5], steps=50).epochs
2
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from seqkit.checks import check_int

__all__ = ["History"]


@dataclass
class History:
    """What training did, epoch by epoch.

    Attributes:
        loss: mean training cross-entropy of each epoch (nats per token).
        accuracy: training accuracy of each epoch (from the training passes).
        seconds: wall-clock time of the training loop.
        steps: optimizer steps taken.
        val_loss: mean cross-entropy on the held-out data after each epoch (empty
            without validation).
        val_accuracy: accuracy on the held-out data after each epoch.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Epochs completed (fewer than asked if a callback stopped training)."""
        return len(self.loss)

    def __repr__(self) -> str:
        """One line: the epochs, the last epoch's loss and accuracy, the steps and the time.

        >>> History(loss=[3.2, 1.5, 0.4], accuracy=[0.04, 0.5, 1.0], seconds=2.5, steps=75)
        <History: 3 epochs, loss 0.4000, accuracy 100.00%, 75 steps in 2.5 s>
        """
        parts = [f"{self.epochs} epoch{'' if self.epochs == 1 else 's'}"]
        for name, values in self._columns()[1:]:
            if values:
                parts.append(f"{name.replace('_', ' ')} {self._format(name, values[-1])}")
        parts.append(f"{self.steps} steps in {self.seconds:.1f} s")
        return f"<History: {', '.join(parts)}>"

    def to_table(self, max_rows: int | None = 10) -> str:
        """The history as a text table, one row per epoch (the middle elided past ``max_rows``).

        Args:
            max_rows: the most epochs shown: the first and the last ones, with
                ``...`` between. Defaults to 10; None shows every epoch.

        Returns:
            The table, one line per row, columns aligned.

        >>> print(History(loss=[3.2, 1.5, 0.4], accuracy=[0.04, 0.5, 1.0]).to_table())
        epoch    loss  accuracy
            1  3.2000     4.00%
            2  1.5000    50.00%
            3  0.4000   100.00%
        >>> print(History(loss=[3.2, 1.5, 0.4], accuracy=[0.04, 0.5, 1.0]).to_table(max_rows=2))
        epoch    loss  accuracy
            1  3.2000     4.00%
          ...     ...       ...
            3  0.4000   100.00%
        """
        header, rows = self._rows(max_rows)
        cells = [header, *[row or ["..."] * len(header) for row in rows]]
        widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
        return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in cells)

    def _repr_html_(self) -> str:
        """The table of :meth:`to_table` as HTML, for Jupyter, with the one-line summary as caption."""
        header, rows = self._rows(10)
        escape = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
        caption = "".join(escape.get(char, char) for char in repr(self))
        head = "".join(f"<th>{name}</th>" for name in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{cell}</td>" for cell in (row or ["&hellip;"] * len(header))) + "</tr>"
            for row in rows
        )
        return f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def _columns(self) -> list[tuple[str, list[float] | list[int]]]:
        """``(name, per-epoch values)`` of the columns that have values, epoch first."""
        columns = [("loss", self.loss), ("accuracy", self.accuracy),
                   ("val_loss", self.val_loss), ("val_accuracy", self.val_accuracy)]
        return [("epoch", list(range(1, self.epochs + 1)))] + [(name, values) for name, values in columns if values]

    @staticmethod
    def _format(name: str, value: float) -> str:
        if name == "epoch":
            return str(value)
        return f"{100.0 * value:.2f}%" if name.endswith("accuracy") else f"{value:.4f}"

    def _rows(self, max_rows: int | None) -> tuple[list[str], list[list[str] | None]]:
        """The header and the rows (None where epochs are elided)."""
        columns = self._columns()
        if max_rows is not None:
            check_int("History.to_table", "max_rows", max_rows, minimum=2)
        shown: list[int | None] = list(range(self.epochs))
        if max_rows is not None and self.epochs > max_rows:
            first = max_rows // 2
            shown = [*range(first), None, *range(self.epochs - (max_rows - first), self.epochs)]
        rows = [
            None if epoch is None else
            [self._format(name, values[epoch]) if epoch < len(values) else "" for name, values in columns]
            for epoch in shown
        ]
        return [name for name, _ in columns], rows

    @property
    def bits_per_token(self) -> list[float]:
        """Training cross-entropy in bits per token (``loss / ln 2``) of each epoch."""
        return [value / math.log(2) for value in self.loss]

    @property
    def val_bits_per_token(self) -> list[float]:
        """Held-out cross-entropy in bits per token of each epoch (bits per character for a char model)."""
        return [value / math.log(2) for value in self.val_loss]

    @property
    def val_perplexity(self) -> list[float]:
        """Held-out perplexity (``exp(val_loss)``) of each epoch."""
        return [math.exp(min(value, 700.0)) for value in self.val_loss]
