"""The local AKS lab: an ARM simulator and a Kubernetes API emulator on loopback.

Test and demo infrastructure only; never shipped with the collection (see galaxy.yml build_ignore).
"""
