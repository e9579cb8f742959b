"""The load engine: open-model schedules (intended start times) and closed-model users, shapes, customers."""
