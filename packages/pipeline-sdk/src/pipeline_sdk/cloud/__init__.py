"""What every command that talks to Google Cloud or a registry shares (``submit``, ``publish``):
credentials (:mod:`.credentials`), API failures as one line and deadlines (:mod:`.failures`), the refusal of
plain HTTP (:mod:`.endpoints`), and the registry's manifest API (:mod:`.registry`)."""
