"""The API's documentation page, made from its OpenAPI document: every operation with its
parameters and answers, and every schema with its fields. Rendered on the server by our own
template, so that it needs no script and nothing from another site."""

from dataclasses import dataclass, field

from flask import current_app

METHODS = ("get", "post", "put", "patch", "delete")
# The order of the page: by the first part of the path after /api/v1/.
GROUP_ORDER = ("", "practices", "ideas", "authorities", "programmes", "objectives", "themes", "me")


@dataclass
class Type:
    """A field's or parameter's type, as the page shows it: a word, or a link to a schema."""

    text: str
    schema: str | None = None  # the schema it refers to
    values: list = field(default_factory=list)  # the values an enumeration allows
    many: bool = False
    nullable: bool = False


@dataclass
class Parameter:
    name: str
    location: str
    type: Type
    required: bool
    description: str


@dataclass
class Answer:
    code: str
    description: str
    schema: str | None


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Parameter]
    answers: list[Answer]
    needs_token: bool

    @property
    def anchor(self) -> str:
        return "op-" + self.method + self.path.replace("/", "-").replace("{", "").replace("}", "")


@dataclass
class Field:
    name: str
    type: Type
    required: bool
    description: str


@dataclass
class Schema:
    name: str
    description: str
    fields: list[Field]


@dataclass
class Documentation:
    title: str
    version: str
    description: str
    groups: list[tuple[str, list[Operation]]]
    schemas: list[Schema]


def openapi_document() -> dict:
    """The API's OpenAPI document, as /api/v1/openapi.json serves it."""
    api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    return api.spec.to_dict()


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _resolve(document: dict, item: dict) -> dict:
    """A $ref to a component (a response, a parameter), followed."""
    while "$ref" in item:
        *_, kind, name = item["$ref"].split("/")
        item = document["components"][kind][name]
    return item


def _type(schema: dict) -> Type:
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return Type(name, schema=name)
    if "allOf" in schema and len(schema["allOf"]) == 1:
        inner = _type(schema["allOf"][0])
        inner.nullable = schema.get("nullable", False)
        return inner
    if schema.get("type") == "array":
        inner = _type(schema.get("items", {}))
        inner.many = True
        inner.nullable = schema.get("nullable", False)
        return inner
    text = schema.get("type", "any")
    if schema.get("format"):
        text += f" ({schema['format']})"
    return Type(text, values=list(schema.get("enum", [])), nullable=schema.get("nullable", False))


def _answers(document: dict, responses: dict) -> list[Answer]:
    answers = []
    for code, response in sorted(
        responses.items(), key=lambda item: (item[0] == "default", item[0])
    ):
        response = _resolve(document, response)
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        answers.append(
            Answer(
                code=code,
                description=response.get("description", ""),
                schema=_ref_name(schema["$ref"]) if "$ref" in schema else None,
            )
        )
    return answers


def _group_of(path: str) -> str:
    parts = [part for part in path.split("/") if part]
    # /api/v1/<resource>/…
    return parts[2] if len(parts) > 2 else ""


def describe(document: dict) -> Documentation:
    """What the documentation page shows of an OpenAPI document."""
    groups: dict[str, list[Operation]] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            parameters = [
                Parameter(
                    name=parameter["name"],
                    location=parameter["in"],
                    type=_type(parameter.get("schema", {})),
                    required=parameter.get("required", False),
                    description=parameter.get("description", ""),
                )
                for parameter in (
                    _resolve(document, p)
                    for p in [*item.get("parameters", []), *operation.get("parameters", [])]
                )
            ]
            groups.setdefault(_group_of(path), []).append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=operation.get("summary", ""),
                    description=operation.get("description", ""),
                    parameters=parameters,
                    answers=_answers(document, operation.get("responses", {})),
                    needs_token=bool(operation.get("security")),
                )
            )
    schemas = []
    for name, schema in sorted(document.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        schemas.append(
            Schema(
                name=name,
                description=schema.get("description", ""),
                fields=[
                    Field(
                        name=field_name,
                        type=_type(prop),
                        required=field_name in required,
                        description=prop.get("description", ""),
                    )
                    for field_name, prop in schema.get("properties", {}).items()
                ],
            )
        )
    info = document.get("info", {})
    return Documentation(
        title=info.get("title", ""),
        version=info.get("version", ""),
        description=info.get("description", ""),
        groups=sorted(
            groups.items(),
            key=lambda group: (
                GROUP_ORDER.index(group[0]) if group[0] in GROUP_ORDER else len(GROUP_ORDER),
                group[0],
            ),
        ),
        schemas=schemas,
    )
