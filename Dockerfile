# Atlas runtime image: the official Airflow image plus Atlas's pinned dependencies.
#
# Only dependencies are baked in. dags/, plugins/ and include/ are mounted by docker-compose.yaml,
# so a code change needs no rebuild; a change to requirements.lock does (docker compose build).
# The base image already ships the Celery provider that CeleryExecutor needs.
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

# Packages are installed as the image's airflow user, as the official image requires.
COPY --chown=airflow:0 requirements.lock /opt/atlas/requirements.lock
RUN pip install --no-cache-dir -r /opt/atlas/requirements.lock

# Nothing is downloaded at run time: the spaCy model is a wheel in the lock, Soda telemetry is off.
ENV OTEL_SDK_DISABLED=true \
    SODA_DISABLE_TELEMETRY=true \
    PYTHONDONTWRITEBYTECODE=1
