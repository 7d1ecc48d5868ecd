package server

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
)

// getDiscovery serves TAXII 2.1 section 4.1.
func (s *Server) getDiscovery(c echo.Context) error {
	cfg := s.config(c)
	res := discoveryResource{Title: cfg.Title, Description: cfg.Description, Contact: cfg.Contact}
	for _, root := range cfg.APIRoots {
		res.APIRoots = append(res.APIRoots, "/"+root.Path+"/")
	}
	if len(res.APIRoots) > 0 {
		res.Default = res.APIRoots[0]
	}
	return writeJSON(c, http.StatusOK, res)
}

// getAPIRoot serves section 4.2.
func (s *Server) getAPIRoot(c echo.Context) error {
	root, err := s.apiRoot(c)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, apiRootResource{
		Title:            root.Title,
		Description:      root.Description,
		Versions:         []string{mediaTAXII},
		MaxContentLength: s.config(c).MaxContentLength,
	})
}

// getCollections serves section 5.1: the collections the caller may read
// or write, sorted by id.
func (s *Server) getCollections(c echo.Context) error {
	root, err := s.apiRoot(c)
	if err != nil {
		return err
	}
	var res collectionsResource
	for i := range root.Collections {
		if cr, visible := s.describe(c, &root.Collections[i]); visible {
			res.Collections = append(res.Collections, cr)
		}
	}
	slices.SortFunc(res.Collections, func(a, b collectionResource) int { return strings.Compare(a.ID, b.ID) })
	return writeJSON(c, http.StatusOK, res)
}

// getCollection serves section 5.2.
func (s *Server) getCollection(c echo.Context) error {
	_, col, err := s.collection(c, 0)
	if err != nil {
		return err
	}
	cr, _ := s.describe(c, col)
	return writeJSON(c, http.StatusOK, cr)
}

// describe is the collection resource as the caller sees it, and whether
// the caller may see it at all.
func (s *Server) describe(c echo.Context, col *config.Collection) (collectionResource, bool) {
	p := principal(c)
	cr := collectionResource{
		ID:          col.ID,
		Title:       col.Title,
		Description: col.Description,
		Alias:       col.Alias,
		CanRead:     s.stateOf(c).policy.CanRead(p, col.ID),
		CanWrite:    s.stateOf(c).policy.CanWrite(p, col.ID),
		MediaTypes:  col.MediaTypes,
	}
	return cr, cr.CanRead || cr.CanWrite
}

// Access a collection endpoint needs.
const (
	needRead = 1 << iota
	needWrite
)

func (s *Server) apiRoot(c echo.Context) (*config.APIRoot, error) {
	root, ok := s.config(c).APIRoot(c.Param("root"))
	if !ok {
		return nil, newError(http.StatusNotFound, "no API root at /%s/", c.Param("root"))
	}
	return root, nil
}

// collection resolves the collection a request addresses, by id or alias.
// One the caller may neither read nor write answers exactly like one that
// does not exist; one it may see but lacks the needed access to is a 403.
func (s *Server) collection(c echo.Context, need int) (*config.APIRoot, *config.Collection, error) {
	root, err := s.apiRoot(c)
	if err != nil {
		return nil, nil, err
	}
	key := c.Param("collection")
	col, ok := root.Collection(key)
	var cr collectionResource
	if ok {
		cr, ok = s.describe(c, col)
	}
	if !ok {
		return nil, nil, newError(http.StatusNotFound, "no collection %q in API root %s", key, root.Path)
	}
	auditOf(c).collection = col.ID
	if need&needRead != 0 && !cr.CanRead {
		return nil, nil, newError(http.StatusForbidden, "you may not read collection %s", col.ID)
	}
	if need&needWrite != 0 && !cr.CanWrite {
		return nil, nil, newError(http.StatusForbidden, "you may not write to collection %s", col.ID)
	}
	return root, col, nil
}

// getStatus serves section 4.3. A status is visible only to the
// organization that posted, and only under its collection's API root.
func (s *Server) getStatus(c echo.Context) error {
	root, err := s.apiRoot(c)
	if err != nil {
		return err
	}
	id := strings.ToLower(c.Param("status"))
	notFound := newError(http.StatusNotFound, "no status %s in API root %s", id, root.Path)
	if !stix.ValidUUIDv4(id) {
		return notFound
	}
	st, err := s.store.Status(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound // answered exactly like another organization's
	}
	if err != nil {
		return err
	}
	if _, ok := root.Collection(st.Collection); !ok || st.Owner != principal(c).Org {
		return notFound
	}
	return writeJSON(c, http.StatusOK, statusOf(st))
}

// getManifest serves section 5.3.
func (s *Server) getManifest(c echo.Context) error {
	_, col, err := s.collection(c, needRead)
	if err != nil {
		return err
	}
	lr, err := s.parseList(s.config(c), c.QueryParams(), epManifest, col.ID)
	if err != nil {
		return err
	}
	return s.store.Query(c.Request().Context(), col.ID, lr.query, func(p store.Page) error {
		auditReturned(c, p)
		res := manifestResource{More: p.More, Next: s.nextToken(lr, p)}
		for _, e := range p.Entries {
			res.Objects = append(res.Objects, manifestRecord{
				ID:        e.ID,
				DateAdded: stix.FormatTAXII(e.DateAdded),
				Version:   e.Version,
				MediaType: "application/stix+json;version=" + e.SpecVersion,
			})
		}
		setDateAddedHeaders(c, p, lr.query.AddedAfter)
		return writeJSON(c, http.StatusOK, res)
	})
}

// getObjects serves section 5.4.
func (s *Server) getObjects(c echo.Context) error {
	_, col, err := s.collection(c, needRead)
	if err != nil {
		return err
	}
	lr, err := s.parseList(s.config(c), c.QueryParams(), epObjects, col.ID)
	if err != nil {
		return err
	}
	return s.store.Query(c.Request().Context(), col.ID, lr.query, func(p store.Page) error {
		auditReturned(c, p)
		return writeEnvelope(c, p, s.nextToken(lr, p), lr.query.AddedAfter)
	})
}

// getObject serves section 5.6: the versions of one object the filters
// choose; 404 when none is chosen.
func (s *Server) getObject(c echo.Context) error {
	_, col, err := s.collection(c, needRead)
	if err != nil {
		return err
	}
	id := stix.CanonicalID(c.Param("object"))
	lr, err := s.parseList(s.config(c), c.QueryParams(), epObject, col.ID+"/"+id)
	if err != nil {
		return err
	}
	lr.query.IDs = []string{id}
	return s.store.Query(c.Request().Context(), col.ID, lr.query, func(p store.Page) error {
		if len(p.Entries) == 0 && c.QueryParam("next") == "" {
			return newError(http.StatusNotFound, "no object %s in collection %s matches", id, col.ID)
		}
		auditReturned(c, p)
		return writeEnvelope(c, p, s.nextToken(lr, p), lr.query.AddedAfter)
	})
}

// getVersions serves section 5.8.
func (s *Server) getVersions(c echo.Context) error {
	_, col, err := s.collection(c, needRead)
	if err != nil {
		return err
	}
	id := stix.CanonicalID(c.Param("object"))
	lr, err := s.parseList(s.config(c), c.QueryParams(), epVersions, col.ID+"/"+id)
	if err != nil {
		return err
	}
	lr.query.IDs = []string{id}
	lr.query.Versions = store.VersionMatch{All: true}
	return s.store.Query(c.Request().Context(), col.ID, lr.query, func(p store.Page) error {
		if len(p.Entries) == 0 && c.QueryParam("next") == "" {
			return newError(http.StatusNotFound, "no object %s in collection %s matches", id, col.ID)
		}
		auditReturned(c, p)
		res := versionsResource{More: p.More, Next: s.nextToken(lr, p)}
		for _, e := range p.Entries {
			res.Versions = append(res.Versions, e.Version)
		}
		setDateAddedHeaders(c, p, lr.query.AddedAfter)
		return writeJSON(c, http.StatusOK, res)
	})
}

// deleteObject serves section 5.7. Without match[version] it removes every
// version of the object, so that it is gone afterwards.
func (s *Server) deleteObject(c echo.Context) error {
	_, col, err := s.collection(c, needRead|needWrite)
	if err != nil {
		return err
	}
	id := stix.CanonicalID(c.Param("object"))
	lr, err := s.parseList(s.config(c), c.QueryParams(), epDelete, col.ID+"/"+id)
	if err != nil {
		return err
	}
	versions := lr.query.Versions
	if versions.IsZero() {
		versions.All = true
	}
	// The record goes in with the delete; a delete that removes nothing is
	// recorded by auditRequests with the status it is answered with.
	rec := s.newRecord(c, time.Now().UTC(), http.StatusOK, "")
	if _, err := s.store.Delete(c.Request().Context(), col.ID, authorOf(principal(c)), id, versions, lr.query.SpecVersions, rec); err != nil {
		return err
	}
	auditOf(c).appended = true
	c.Response().Header().Set(echo.HeaderContentType, mediaTAXII)
	return c.NoContent(http.StatusOK)
}

// authorOf is who p writes as: its organization, and whether it may change
// other organizations' objects.
func authorOf(p auth.Principal) store.Author {
	return store.Author{Org: p.Org, Admin: p.Has(config.RoleAdmin)}
}

func statusOf(st store.Status) statusResource {
	res := statusResource{
		ID:               st.ID,
		Status:           "complete",
		RequestTimestamp: stix.FormatTAXII(st.RequestTime),
		TotalCount:       st.Total,
		SuccessCount:     len(st.Successes),
		FailureCount:     len(st.Failures),
	}
	for _, d := range st.Successes {
		res.Successes = append(res.Successes, statusDetails(d))
	}
	for _, d := range st.Failures {
		res.Failures = append(res.Failures, statusDetails(d))
	}
	return res
}
