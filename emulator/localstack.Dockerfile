# LocalStack for compose mode, with the `localaws` plugins installed in its own environment, so the
# container serves Glue on its port (4566) exactly as host mode does: the `glue:localaws` provider
# (localaws.glue_gateway) forwards every Glue request to the Glue service (LOCALAWS_GLUE_URL).
# Build context: the repository root (see docker-compose.yml).
ARG LOCALSTACK_IMAGE=localstack/localstack:4.14.0
FROM ${LOCALSTACK_IMAGE}

COPY emulator/pyproject.toml /opt/localaws/pyproject.toml
COPY emulator/src /opt/localaws/src
# --no-deps: localaws has no dependencies of its own and must not change LocalStack's environment.
RUN /opt/code/localstack/.venv/bin/python -m pip install --no-cache-dir --no-deps /opt/localaws
