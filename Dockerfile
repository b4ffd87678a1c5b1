# Instructor Explorer — hosted-demo image (Hugging Face Spaces conventions: non-root uid 1000, port 7860).
#   CPU (default):  docker build -t instructor-explorer .
#   CUDA:           docker build -t instructor-explorer:cuda \
#                     --build-arg BASE_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 \
#                     --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu126 .
#   Run:            docker run -p 7860:7860 -v instructor-cache:/home/user/.cache instructor-explorer
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1

# CUDA base images come without Python; the slim image already has it.
RUN if ! command -v python3 >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends python3 python3-venv && \
      rm -rf /var/lib/apt/lists/*; fi \
 && python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Dependencies first (their own layers, cached across code changes); torch from the chosen index, every
# other package at the exact version in constraints.txt, so rebuilding gives the same image.
COPY requirements.txt constraints.txt /tmp/
RUN pip install "torch==2.13.0" --index-url "${TORCH_INDEX}" \
 && pip install -r /tmp/requirements.txt -c /tmp/constraints.txt

# Run as uid 1000 (Hugging Face Spaces). Some bases already have it (CUDA's Ubuntu 24.04: 'ubuntu'): reuse it.
RUN if ! getent passwd 1000 >/dev/null; then useradd --create-home --uid 1000 user; fi \
 && mkdir -p /home/user/app /home/user/.cache && chown -R 1000:1000 /home/user
USER 1000
ENV HOME=/home/user \
    HF_HOME=/home/user/.cache/huggingface \
    GRADIO_ANALYTICS_ENABLED=False \
    INSTRUCTOR_EXPLORER_HOST=0.0.0.0 \
    INSTRUCTOR_EXPLORER_PORT=7860 \
    INSTRUCTOR_EXPLORER_HOSTED=1
WORKDIR /home/user/app
COPY --chown=1000:1000 . .
# Model downloads, the embedding cache and numba's compiled code live here: mount a volume to keep them.
VOLUME ["/home/user/.cache"]

EXPOSE 7860
# Probes the port the app listens on, also when INSTRUCTOR_EXPLORER_PORT is changed at `docker run`.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/' % os.environ.get('INSTRUCTOR_EXPLORER_PORT', '7860'), timeout=4)" || exit 1
# Exec form: python is PID 1 and gets SIGTERM itself; app.py handles it (a clean stop, exit 0).
CMD ["python", "app.py"]
