"""The domain model: what a handout request is (procedure, phase, language, print), the
patient's details and medicine plan, the values a person types, and the clinic's
settings (clinic.toml). Plain data and parsing: nothing here renders or writes a file.
"""
