package sesv2

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/sesamehq/sesame/internal/api/v2wire"
	"github.com/sesamehq/sesame/internal/suppression"
)

// The account-level suppression list (SES-BEHAVIOR §11): the four
// SuppressedDestination operations and PutAccountSuppressionAttributes.

// defaultSuppressionPage is ListSuppressedDestinations' page without a
// PageSize [Sesame choice; the model gives no default].
const defaultSuppressionPage = 100

// PutSuppressedDestination is SES v2 PutSuppressedDestination: add an
// address to the account's list, or update its reason (an upsert).
func (s *Service) PutSuppressedDestination(ctx context.Context, in *v2wire.PutSuppressedDestinationRequest) (*v2wire.PutSuppressedDestinationResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.Suppression.Put(ctx, acct, in.EmailAddress, suppression.Reason(in.Reason)); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutSuppressedDestinationResponse{}, nil
}

// GetSuppressedDestination is SES v2 GetSuppressedDestination; an address not
// on the list is NotFoundException.
func (s *Service) GetSuppressedDestination(ctx context.Context, in *v2wire.GetSuppressedDestinationRequest) (*v2wire.GetSuppressedDestinationResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.d.Suppression.Get(ctx, acct, in.EmailAddress)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v2wire.SuppressedDestination{EmailAddress: e.Address, Reason: string(e.Reason), LastUpdateTime: ptr(e.LastUpdate)}
	if e.MessageID != "" || e.FeedbackID != "" {
		out.Attributes = &v2wire.SuppressedDestinationAttributes{MessageId: e.MessageID, FeedbackId: e.FeedbackID}
	}
	return &v2wire.GetSuppressedDestinationResponse{SuppressedDestination: out}, nil
}

// DeleteSuppressedDestination is SES v2 DeleteSuppressedDestination; an
// address not on the list is NotFoundException.
func (s *Service) DeleteSuppressedDestination(ctx context.Context, in *v2wire.DeleteSuppressedDestinationRequest) (*v2wire.DeleteSuppressedDestinationResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.d.Suppression.Delete(ctx, acct, in.EmailAddress); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.DeleteSuppressedDestinationResponse{}, nil
}

// ListSuppressedDestinations is SES v2 ListSuppressedDestinations: filtered
// by reason and by LastUpdateTime (StartDate, EndDate, both inclusive),
// PageSize up to 1000, in address order. A NextToken this adapter did not
// make is InvalidNextTokenException, as the model lists.
func (s *Service) ListSuppressedDestinations(ctx context.Context, in *v2wire.ListSuppressedDestinationsRequest) (*v2wire.ListSuppressedDestinationsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	limit, err := pageSize(in.PageSize, 0, suppression.MaxPage, defaultSuppressionPage)
	if err != nil {
		return nil, err
	}
	after, err := decodeSuppressionToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	q := suppression.Query{After: after, Limit: limit}
	for _, r := range in.Reasons {
		reason, err := suppression.ParseReason(r)
		if err != nil {
			return nil, wireError(err)
		}
		q.Reasons = append(q.Reasons, reason)
	}
	if in.StartDate != nil {
		q.Start = *in.StartDate
	}
	if in.EndDate != nil {
		q.End = *in.EndDate
	}
	es, next, err := s.d.Suppression.List(ctx, acct, q)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v2wire.ListSuppressedDestinationsResponse{
		SuppressedDestinationSummaries: make([]v2wire.SuppressedDestinationSummary, 0, len(es)),
		NextToken:                      encodeSuppressionToken(next),
	}
	for _, e := range es {
		out.SuppressedDestinationSummaries = append(out.SuppressedDestinationSummaries, v2wire.SuppressedDestinationSummary{
			EmailAddress: e.Address, Reason: string(e.Reason), LastUpdateTime: ptr(e.LastUpdate)})
	}
	return out, nil
}

// PutAccountSuppressionAttributes is SES v2 PutAccountSuppressionAttributes:
// the reasons the account's list applies; an absent or empty list turns it
// off. ValidationAttributes (auto-validation, a VDM feature) are not kept.
func (s *Service) PutAccountSuppressionAttributes(ctx context.Context, in *v2wire.PutAccountSuppressionAttributesRequest) (*v2wire.PutAccountSuppressionAttributesResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	reasons := make([]suppression.Reason, 0, len(in.SuppressedReasons))
	for _, r := range in.SuppressedReasons {
		reasons = append(reasons, suppression.Reason(r))
	}
	if err := s.d.Suppression.SetReasons(ctx, acct, reasons); err != nil {
		return nil, wireError(err)
	}
	return &v2wire.PutAccountSuppressionAttributesResponse{}, nil
}

// suppressionTokenPrefix marks the list's tokens, so that a token made for
// another list (or made up) is refused rather than read as an address.
const suppressionTokenPrefix = "suppression:"

func encodeSuppressionToken(cursor string) string {
	if cursor == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(suppressionTokenPrefix + cursor))
}

func decodeSuppressionToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	cursor, ok := strings.CutPrefix(string(b), suppressionTokenPrefix)
	if err != nil || !ok || !strings.Contains(cursor, "@") {
		return "", v2wire.ErrInvalidNextToken("The NextToken is invalid.")
	}
	return cursor, nil
}
