package configset

import (
	"context"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
)

// CreateEventDestination adds an event destination to a set (v1 and v2
// CreateConfigurationSetEventDestination): at most MaxDestinations per set;
// an existing name is an AlreadyExists fault naming the destination.
func (s *Service) CreateEventDestination(ctx context.Context, account, set string, d EventDestination) error {
	if err := d.validate(s.cfg.Region, account); err != nil {
		return err
	}
	args, err := destinationArgs(&d)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := requireSet(tx, account, set); err != nil {
			return err
		}
		var exists, n int
		if err := tx.QueryRow("SELECT count(*) FROM config_set_destinations WHERE account_id = ? AND config_set = ? AND name = ?",
			account, set, d.Name).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			return fault.Named(fault.AlreadyExists, d.Name, "Event destination %s already exists in configuration set <%s>.", d.Name, set)
		}
		if err := tx.QueryRow("SELECT count(*) FROM config_set_destinations WHERE account_id = ? AND config_set = ?", account, set).Scan(&n); err != nil {
			return err
		}
		if n >= s.cfg.MaxDestinations {
			return fault.New(fault.LimitExceeded, "Maximum number of event destinations (%d) for configuration set <%s> reached.", s.cfg.MaxDestinations, set)
		}
		_, err := tx.Exec("INSERT INTO config_set_destinations(account_id, config_set, "+destColumns+", created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
			append(append([]any{account, set}, args...), store.Millis(s.now()))...)
		return err
	})
}

// UpdateEventDestination replaces an event destination's definition (v1 and
// v2 UpdateConfigurationSetEventDestination); an unknown name is a NotFound
// fault naming the destination.
func (s *Service) UpdateEventDestination(ctx context.Context, account, set string, d EventDestination) error {
	if err := d.validate(s.cfg.Region, account); err != nil {
		return err
	}
	args, err := destinationArgs(&d)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := requireSet(tx, account, set); err != nil {
			return err
		}
		r, err := tx.Exec(`UPDATE config_set_destinations SET enabled = ?, event_types = ?, kind = ?, target_arn = ?, role_arn = ?, dimensions = ?
			WHERE account_id = ? AND config_set = ? AND name = ?`, append(args[1:], account, set, d.Name)...)
		if err != nil {
			return err
		}
		return affected(r.RowsAffected, d.Name, set)
	})
}

// DeleteEventDestination removes an event destination (v1 and v2
// DeleteConfigurationSetEventDestination).
func (s *Service) DeleteEventDestination(ctx context.Context, account, set, name string) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := requireSet(tx, account, set); err != nil {
			return err
		}
		r, err := tx.Exec("DELETE FROM config_set_destinations WHERE account_id = ? AND config_set = ? AND name = ?", account, set, name)
		if err != nil {
			return err
		}
		return affected(r.RowsAffected, name, set)
	})
}

// EventDestinations returns a set's event destinations in name order (v2
// GetConfigurationSetEventDestinations; v1 DescribeConfigurationSet). An
// unknown set is a ConfigSetNotFound fault.
func (s *Service) EventDestinations(ctx context.Context, account, set string) ([]EventDestination, error) {
	if _, err := s.Get(ctx, account, set); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().QueryContext(ctx, "SELECT "+destColumns+" FROM config_set_destinations WHERE account_id = ? AND config_set = ? ORDER BY name",
		account, set)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []EventDestination{}
	for rows.Next() {
		d, err := scanDestination(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

func requireSet(tx *store.Tx, account, set string) error {
	var n int
	if err := tx.QueryRow("SELECT count(*) FROM config_sets WHERE account_id = ? AND name = ?", account, set).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound(set)
	}
	return nil
}

// affected turns "no row changed" into the NotFound fault of a destination.
func affected(rowsAffected func() (int64, error), name, set string) error {
	n, err := rowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fault.Named(fault.NotFound, name, "Event destination %s does not exist in configuration set <%s>.", name, set)
	}
	return nil
}
