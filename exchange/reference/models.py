"""Programmes, objectives, themes and border areas: data that admins edit, never constants."""

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.extensions import db
from exchange.i18n import current_language, localized


class Programme(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_es: Mapped[str] = mapped_column(String(200))
    name_pt: Mapped[str] = mapped_column(String(200))
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_es: Mapped[str] = mapped_column(Text, default="")
    description_pt: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, default=0)

    objectives: Mapped[list["Objective"]] = relationship(
        back_populates="programme", order_by="Objective.position", cascade="all, delete-orphan"
    )

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def description(self) -> str:
        return localized(self, "description")

    def __repr__(self) -> str:
        return f"<Programme {self.code}>"


class Objective(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    text_en: Mapped[str] = mapped_column(Text)
    text_es: Mapped[str] = mapped_column(Text)
    text_pt: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    programme: Mapped[Programme] = relationship(back_populates="objectives")

    @property
    def text(self) -> str:
        return localized(self, "text")

    def __repr__(self) -> str:
        return f"<Objective {self.code}>"


class ThemeGroup(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    label_en: Mapped[str] = mapped_column(String(200))
    label_es: Mapped[str] = mapped_column(String(200))
    label_pt: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)

    themes: Mapped[list["Theme"]] = relationship(back_populates="group", order_by="Theme.position")

    @property
    def label(self) -> str:
        return localized(self, "label")


class Theme(db.Model):
    """A language-neutral theme: the code is stable, the labels are for people."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("theme_group.id"))
    label_en: Mapped[str] = mapped_column(String(200))
    label_es: Mapped[str] = mapped_column(String(200))
    label_pt: Mapped[str] = mapped_column(String(200))
    # {"en": [...], "es": [...], "pt": [...]}: words that suggest the theme in free text.
    keywords: Mapped[dict] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)

    group: Mapped[ThemeGroup] = relationship(back_populates="themes")

    @property
    def label(self) -> str:
        return localized(self, "label")

    def __repr__(self) -> str:
        return f"<Theme {self.code}>"


class BorderArea(db.Model):
    """Neighbouring countries and the sub-regions (ISO 3166-2) along their border."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_es: Mapped[str] = mapped_column(String(200))
    name_pt: Mapped[str] = mapped_column(String(200))
    countries: Mapped[list] = mapped_column(JSON, default=list)
    subdivisions: Mapped[list] = mapped_column(JSON, default=list)
    # [{"en": ..., "es": ..., "pt": ...}, ...]
    value_chains: Mapped[list] = mapped_column(JSON, default=list)
    source_url: Mapped[str | None] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def name(self) -> str:
        return localized(self, "name")

    def value_chain_labels(self, language: str | None = None) -> list[str]:
        language = language or current_language()
        return [chain.get(language) or chain["en"] for chain in self.value_chains]

    def __repr__(self) -> str:
        return f"<BorderArea {self.code}>"
