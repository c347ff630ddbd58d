"""Problems with the input that the user can fix. Never a bug, never a traceback.

Every layer raises `InputError` with one sentence that says what is wrong and what to
do; the CLI prints it as `error: <message>` and exits 2, Slack posts it in the thread.
"""


class InputError(Exception):
    """Bad input or bad usage, explained for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SeveralMachines(InputError):
    """The upload holds the logs of several machines, which one diagnosis would merge:
    `sccm fleet` (knowledge/fleet.py) diagnoses each. `machines` names them."""

    def __init__(self, message: str, machines: list[str]):
        super().__init__(message)
        self.machines = machines
