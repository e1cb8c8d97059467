"""Run retrain-trigger on this machine against moto's AWS emulation: no AWS account needed.

Nothing under functions/ or pipeline/ imports this package; it sits on top of them.
"""
