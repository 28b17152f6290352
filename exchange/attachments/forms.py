from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class UploadForm(FlaskForm):
    # The type is judged by the service from the content; the name says nothing.
    file = FileField(_l("Add a file"), validators=[FileRequired(_l("Choose a file to upload."))])
