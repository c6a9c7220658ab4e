"""What a class shares, kept outside any one server process: join codes (and, next, class polls).

Every Streamlit process of a deployment (compose replicas, Kubernetes pods) reads and writes the same
database through SQLAlchemy 2: a SQLite file by default (WAL mode, so several processes on one host share
it), PostgreSQL when ``DL_LAB_DATABASE_URL`` names one. The schema is versioned with Alembic
(``classroom/migrations``); ``classroom.store.connect`` applies pending migrations on first use and refuses
a database whose schema is newer than this code. Imports neither Streamlit nor torch.
"""
