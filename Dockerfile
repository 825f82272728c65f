# jobmonitor: one image for every process; the command picks the role
# (serve | worker | agent --name N | migrate). See docs/deployment.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY server ./server
COPY resolvers ./resolvers
COPY dataloaders ./dataloaders
RUN pip install . && useradd --uid 10001 --create-home jobmonitor

USER jobmonitor
EXPOSE 8000 8081
ENTRYPOINT ["jobmonitor"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
