"""localaws: a Docker-less local AWS for running serverless projects on the host.

Generic AWS emulation; it knows nothing about any project that uses it.
"""
