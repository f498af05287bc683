"""Drive a real `editloop serve` session from a script: the demo and the benchmark play the user here."""
