"""The reference for `make bench`: TechEmpower's "Fortunes" page as a minimal Flask app.

One page reads the 12 rows of its own `fortune` table from the portal's database through
SQLAlchemy, adds a 13th in memory, sorts them by message and renders them with an escaping Jinja
template (one message is a `<script>` that must come out as text). Served by gunicorn with the
portal's worker settings behind the same nginx, it is the yardstick that lets the portal's figures
survive a noisy machine: each page is reported as a fraction of this page's requests per second.

    DATABASE_URL=sqlite:///instance/portal.db gunicorn 'bench.fortunes:create_app()'
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# TechEmpower's 12 messages (https://github.com/TechEmpower/FrameworkBenchmarks, "Fortunes").
MESSAGES = (
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. \u2014 Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af",
)
ADDED = "Additional fortune added at request time."


class Base(DeclarativeBase):
    """Its own metadata: the portal's models and migrations never see this table."""


class Fortune(Base):
    __tablename__ = "fortune"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message: Mapped[str] = mapped_column(String(2048))


db = SQLAlchemy(model_class=Base)


def create_app(database_url: str | None = None) -> Flask:
    """The reference app on `database_url` (default: DATABASE_URL, as the portal reads it)."""
    app = Flask(__name__, template_folder=str(Path(__file__).with_name("templates")))
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url or os.environ["DATABASE_URL"]
    # The portal's engine options, so both pay the same per-checkout price.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    db.init_app(app)

    @app.get("/fortunes")
    def fortunes() -> str:
        rows = [(f.id, f.message) for f in db.session.scalars(select(Fortune))]
        rows.append((0, ADDED))
        rows.sort(key=lambda row: row[1])
        return render_template("fortunes.html", fortunes=[{"id": i, "message": m} for i, m in rows])

    return app


def install(engine: Engine) -> None:
    """Create the `fortune` table and its 12 rows (again, if they were changed)."""
    Base.metadata.create_all(engine, tables=[Fortune.__table__])
    with engine.begin() as conn:
        conn.execute(Fortune.__table__.delete())
        conn.execute(
            Fortune.__table__.insert(),
            [{"id": i, "message": m} for i, m in enumerate(MESSAGES, start=1)],
        )
