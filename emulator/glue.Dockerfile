# The Glue-compatible service as a container (compose mode): the same `localaws.glue` code that runs
# on the host in host mode, on AWS Glue Python shell's own Python (3.9).
#
# Three environments, as in host mode, so a job never sees the service's libraries:
#   /opt/glue-service     werkzeug + boto3 + localaws  (serves the Glue API on :4567)
#   /opt/pythonshell-3.9  the `analytics` library set   (runs pythonshell job scripts)
#   /opt/spark-5.0        Debian's Python 3.11 + pyspark 3.5.4 on Debian's OpenJDK 17 (glueetl, Glue 5.0),
#                         with the S3A jars in /opt/spark-5.0/jars (as .venvs/glue-spark-5.0/jars in host mode)
# Build context: the repository root (see docker-compose.yml).

# The S3A jars, taken from the sagemaker-pyspark sdist on PyPI and checked against the pinned checksums.
FROM python:3.11.7-slim-bookworm AS s3a-jars
WORKDIR /jars
COPY emulator/requirements/glue-spark-5.0-jars.sha256 /jars.sha256
RUN pip download --no-cache-dir --no-deps --no-binary :all: sagemaker-pyspark==1.4.5 -d /tmp/sdist \
 && tar -xzf /tmp/sdist/sagemaker_pyspark-1.4.5.tar.gz -C /tmp/sdist \
      sagemaker_pyspark-1.4.5/deps/jars/hadoop-aws-3.3.1.jar \
      sagemaker_pyspark-1.4.5/deps/jars/aws-java-sdk-bundle-1.11.901.jar \
 && mv /tmp/sdist/sagemaker_pyspark-1.4.5/deps/jars/*.jar /jars/ \
 && sha256sum --check /jars.sha256 \
 && rm -rf /tmp/sdist

FROM python:3.9.18-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/build
COPY emulator/requirements/glue-pythonshell-3.9.txt emulator/requirements/glue-service.txt \
     emulator/requirements/glue-spark-5.0.txt ./
# Glue 5.0 runs Python 3.11 and Java 17: bookworm's own packages (patch level left to Debian security).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.11=3.11.2-* python3.11-venv=3.11.2-* \
      openjdk-17-jre-headless=17.0.* procps=2:4.0.* \
 && rm -rf /var/lib/apt/lists/* \
 && python3.11 -m venv /opt/spark-5.0 \
 && /opt/spark-5.0/bin/pip install -r glue-spark-5.0.txt
COPY --from=s3a-jars /jars/ /opt/spark-5.0/jars/
RUN python -m venv /opt/pythonshell-3.9 \
 && /opt/pythonshell-3.9/bin/pip install -r glue-pythonshell-3.9.txt \
 && python -m venv /opt/glue-service \
 && /opt/glue-service/bin/pip install -r glue-service.txt

COPY emulator/pyproject.toml /opt/localaws/pyproject.toml
COPY emulator/src /opt/localaws/src
RUN /opt/glue-service/bin/pip install --no-deps /opt/localaws \
 && useradd --system --uid 10001 --create-home --home-dir /var/lib/glue glue

USER 10001
ENV LOCALAWS_GLUE_HOST=0.0.0.0 \
    LOCALAWS_GLUE_PORT=4567 \
    LOCALAWS_GLUE_STATE_DIR=/var/lib/glue/state \
    LOCALAWS_GLUE_PYTHON3_9=/opt/pythonshell-3.9/bin/python \
    LOCALAWS_GLUE_PYTHONSPARK_5_0=/opt/spark-5.0/bin/python
EXPOSE 4567
HEALTHCHECK --interval=5s --timeout=3s --retries=20 \
  CMD ["/opt/glue-service/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4567/health', timeout=2)"]
CMD ["/opt/glue-service/bin/python", "-m", "localaws.glue"]
