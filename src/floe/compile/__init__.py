"""The six-stage compiler: LOAD → VALIDATE → RESOLVE → ENFORCE → COMPILE → GENERATE."""
