-- Search (issue 20): minutes and documents' titles become findable kinds. Their rows are
-- rebuilt like the others' (konvent-store's search.rs) when a table they read changes:
-- `minutes` reads the minutes and their sessions; `document` reads the documents, their
-- newest versions' file names (never the files' content) and their owners, whose
-- confidentiality decides who finds them. Triggers of migration 0028 on the same tables
-- stay; these bump the new kinds besides.
CREATE TRIGGER search_0031_council_minutes_insert AFTER INSERT ON council_minutes BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('minutes');
END;
CREATE TRIGGER search_0031_council_minutes_update AFTER UPDATE ON council_minutes BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('minutes');
END;
CREATE TRIGGER search_0031_council_minutes_delete AFTER DELETE ON council_minutes BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('minutes');
END;
CREATE TRIGGER search_0031_documents_insert AFTER INSERT ON documents BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_documents_update AFTER UPDATE ON documents BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_documents_delete AFTER DELETE ON documents BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_document_versions_insert AFTER INSERT ON document_versions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_document_versions_update AFTER UPDATE ON document_versions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_document_versions_delete AFTER DELETE ON document_versions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_workshops_insert AFTER INSERT ON workshops BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_workshops_update AFTER UPDATE ON workshops BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_workshops_delete AFTER DELETE ON workshops BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_council_sessions_insert AFTER INSERT ON council_sessions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('minutes', 'document');
END;
CREATE TRIGGER search_0031_council_sessions_update AFTER UPDATE ON council_sessions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('minutes', 'document');
END;
CREATE TRIGGER search_0031_council_sessions_delete AFTER DELETE ON council_sessions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('minutes', 'document');
END;
CREATE TRIGGER search_0031_agenda_items_insert AFTER INSERT ON agenda_items BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_agenda_items_update AFTER UPDATE ON agenda_items BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_agenda_items_delete AFTER DELETE ON agenda_items BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_resolutions_insert AFTER INSERT ON resolutions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_resolutions_update AFTER UPDATE ON resolutions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_resolutions_delete AFTER DELETE ON resolutions BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_target_pictures_insert AFTER INSERT ON target_pictures BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_target_pictures_update AFTER UPDATE ON target_pictures BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
CREATE TRIGGER search_0031_target_pictures_delete AFTER DELETE ON target_pictures BEGIN
    UPDATE search_dirty SET generation = generation + 1 WHERE kind IN ('document');
END;
