# Pod Studio's image, for deploy/kubernetes/ (docs/operations.md). Build and push it yourself:
#   docker build -t registry.example.com/pod-studio:0.1.0 . && docker push registry.example.com/pod-studio:0.1.0
# (It is not built by `make test`: the machines that run the suite have no container engine.)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# Only what the app needs at run time (no tests, docs, .venv or local database).
COPY manage.py ./
COPY podstudio/ podstudio/
COPY composer/ composer/
COPY templates/ templates/
COPY static/ static/

# Static files are collected (hashed and compressed for WhiteNoise) and Python compiled at build
# time: the container's root filesystem is read-only. PODSTUDIO_DEBUG=false selects the same
# manifest storage the app uses at run time.
RUN PODSTUDIO_DEBUG=false python manage.py collectstatic --noinput \
    && python -m compileall -q podstudio composer

RUN groupadd --system --gid 10001 podstudio \
    && useradd --system --uid 10001 --gid podstudio --no-create-home --shell /usr/sbin/nologin podstudio
USER 10001:10001

EXPOSE 8000
CMD ["uvicorn", "podstudio.asgi:application", "--host", "0.0.0.0", "--port", "8000"]
