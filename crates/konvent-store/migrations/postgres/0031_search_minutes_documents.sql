-- Search (issue 20): minutes and documents' titles become findable kinds; see the SQLite
-- migration. A second statement trigger on tables that 0028 already watches bumps the
-- new kinds besides the old ones.
CREATE TRIGGER search_0031_council_minutes AFTER INSERT OR UPDATE OR DELETE ON council_minutes
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('minutes');
CREATE TRIGGER search_0031_documents AFTER INSERT OR UPDATE OR DELETE ON documents
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('document');
CREATE TRIGGER search_0031_document_versions AFTER INSERT OR UPDATE OR DELETE ON document_versions
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('document');
CREATE TRIGGER search_0031_workshops AFTER INSERT OR UPDATE OR DELETE ON workshops
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('document');
CREATE TRIGGER search_0031_council_sessions AFTER INSERT OR UPDATE OR DELETE ON council_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('minutes', 'document');
CREATE TRIGGER search_0031_agenda_items AFTER INSERT OR UPDATE OR DELETE ON agenda_items
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('document');
CREATE TRIGGER search_0031_resolutions AFTER INSERT OR UPDATE OR DELETE ON resolutions
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('document');
CREATE TRIGGER search_0031_target_pictures AFTER INSERT OR UPDATE OR DELETE ON target_pictures
    FOR EACH STATEMENT EXECUTE FUNCTION search_touch('document');
