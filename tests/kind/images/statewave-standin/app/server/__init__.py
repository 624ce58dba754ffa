"""STAND-IN for the Statewave server (statewave.kubernetes test bed). Not Statewave."""

STANDIN_VERSION = "stand-in"
