"""cripto_ops: operator tooling for the pipeline (follow a run, status, logs, reports).

Talks to AWS APIs only, so it works the same against the local emulation and a real account;
endpoints and credentials come from the environment. Not shipped to Lambda or Glue.
"""
